"""``python -m cnnlib export``: a finished run's (or a stored model's) take-home files.

``export RUN --to DIR`` writes ``<run>.tflite`` and ``<run>.onnx`` (each checked against
Keras on the run's test images, the sentence printed), ``<run>.py`` and ``<run>.ipynb``
(:func:`cnnlib.export.run_files.run_files`); for a run on an own dataset of ``--owner``
also the dataset's folder ``DIR/<name>/<class>/<id>.png``, where the script looks for
it. ``export --model NAME --to DIR`` writes a stored model's TFLite and ONNX files.

The command runs on the person's own machine, so it converts in its own process
(``in_process=True``), without the server's child, its limits or its slots
(:mod:`cnnlib.export.child`): it is where the server sends a model too large to
convert there.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path


def add_parser(sub, default_owner: str) -> None:
    """Add the ``export`` command to the ``python -m cnnlib`` sub-parsers ``sub``."""
    e = sub.add_parser("export", help="write a finished run's (or a stored model's) take-home files",
                       description="TFLite and ONNX (each checked against Keras on test images), "
                                   "and for a run its Python script and notebook.")
    e.add_argument("run", nargs="?", default=None,
                   help="the run's directory, or its name in the runs folder")
    e.add_argument("--model", default=None, metavar="NAME", help="a stored model instead of a run")
    e.add_argument("--to", required=True, metavar="DIR", help="the folder to write into (made if missing)")
    e.add_argument("--owner", default=default_owner,
                   help="a run on an own dataset of this owner gets the dataset's folder beside "
                        f"its script (default: {default_owner!r})")
    e.set_defaults(func=run)


def _dataset_folder(config, owner: str) -> dict[str, bytes]:
    """The own dataset of a run as ``{<name>/<class>/<id>.png: bytes}`` when ``owner``
    owns it, else {} (a person's pictures go only to that person)."""
    from cnnlib.owndata import refs
    from cnnlib.owndata.store import OwnDataStore
    from cnnlib.owners import owner_tag

    if not refs.is_own(config.dataset) or owner_tag(owner) != config.dataset_owner:
        return {}
    data = OwnDataStore().export_zip(owner, refs.name_of(config.dataset))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {info.filename: z.read(info) for info in z.infolist() if not info.is_dir()}


def run(args) -> int:
    """The ``export`` command; returns the exit status (0, 1 with a sentence on stderr,
    2 for a call that names neither or both of a run and ``--model``)."""
    from cnnlib import owndata, paths, store
    from cnnlib.export import run_files
    from cnnlib.rundir import RunDir

    if (args.run is None) == (args.model is None):
        print("error: export takes a run or --model NAME, one of them.", file=sys.stderr)
        return 2
    try:
        if args.model is not None:
            entry = next((m for m in store.list_models() if m.name == args.model and m.ok), None)
            if entry is None:
                raise store.ModelNotFoundError(f"No usable stored model named {args.model!r} "
                                               "(python -m cnnlib models lists them).")
            model = run_files.model_files(entry.path, entry.card.get("config"), in_process=True)
            files = model.files(args.model)
        else:
            path = Path(args.run) if Path(args.run).is_dir() else paths.runs_dir() / args.run
            the_run = RunDir(path)
            result = run_files.run_files(the_run, in_process=True)
            model, files = result.model, result.files(the_run.name)
            if result.code_error:
                print(f"No script or notebook: {result.code_error}")
            files.update(_dataset_folder(the_run.config(), args.owner))
        for converted in (model.tflite, model.onnx):
            print(converted.check_sentence())
        written = run_files.write(files, args.to)
    except (OSError, ValueError, *store.ERRORS, *owndata.ERRORS) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} files into {args.to}: "
          + ", ".join(str(p.relative_to(args.to)) for p in written[:4])
          + (f" and {len(written) - 4} more" if len(written) > 4 else ""))
    return 0
