"""Command line: ``python -m cnnlib {train,export,models,delete,prefetch}``.

Models saved here belong to the owner ``cli`` (``--owner`` names another); the
bundled models change only with ``--overwrite-bundled``. ``train --images DIR``
imports a folder of one sub-folder per class as an own dataset of that owner
(:mod:`cnnlib.owndata`) and trains on it; ``train --dataset own:NAME`` trains on that
owner's dataset ``NAME`` again (``--dataset-owner TAG`` names another owner by tag).
``export RUN --to DIR`` writes a finished run's TFLite and ONNX files (each checked
against Keras), script and notebook (:mod:`cnnlib.export`); ``export --model NAME``
a stored model's TFLite and ONNX files.

The benchmarks are not part of the library: ``python -m bench`` (``make bench``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

#: The owner of the models the command line saves, unless ``--owner`` says otherwise.
CLI_OWNER = "cli"


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def cmd_train(args) -> int:
    from tqdm import tqdm

    from cnnlib import owndata, rundir, store
    from cnnlib.data import datasets
    from cnnlib.owndata import refs
    from cnnlib.owners import owner_tag
    from cnnlib.training import arguments, engine, lessons

    try:
        config = arguments.from_args(args)
        if refs.is_own(config.dataset) and config.dataset_owner is None:  # --owner's dataset
            config = dataclasses.replace(config, dataset_owner=owner_tag(args.owner))
        if args.images is not None:  # checked before the import: a bad flag imports nothing
            dataclasses.replace(config, dataset="mnist", dataset_owner=None).validate()
        else:
            config.validate()
        if args.save:  # refused now rather than after the training
            store.check_can_save(args.save, **_save_options(args))
        if args.images is not None:
            config = _import_images(args, config)
    except store.ERRORS + owndata.ERRORS as e:
        _print_error(e)
        return 2
    lesson = lessons.lesson(config.lesson) if config.lesson else None
    if lesson is not None:
        print(f"Lesson {lesson.name}: tutorial {lesson.file}, \"{lesson.title}\". "
              f"The text reports {lesson.figure_text()}.")
        for field, mine, theirs in lessons.differences(config, lesson):
            print(f"  changed from the text: {field} = {mine!r} (the text: {theirs!r})")
    bar = None

    def on_event(ev):
        nonlocal bar
        if ev["type"] == "start":
            print(f"{config.arch} ({ev['params']:,} params) on {config.dataset}: "
                  f"{ev['n_train']} train / {ev['n_val']} val / {ev['n_test']} test images "
                  f"from {ev['dataset_source']}")
        elif ev["type"] == "batch":
            if bar is None or bar.desc != f"epoch {ev['epoch']}/{config.epochs}":
                if bar is not None:
                    bar.close()
                bar = tqdm(total=ev["batches"], desc=f"epoch {ev['epoch']}/{config.epochs}",
                           unit="batch", leave=True)
            bar.n = ev["batch"]
            bar.set_postfix(loss=f"{ev['loss']:.4f}", acc=f"{ev['accuracy']:.4f}", refresh=False)
            bar.refresh()
        elif ev["type"] == "epoch":
            if bar is not None:
                bar.close()
                bar = None
            val = (f" val_loss {ev['val_loss']:.4f} val_acc {ev['val_accuracy']:.4f}"
                   if ev["val_loss"] is not None else "")
            print(f"epoch {ev['epoch']}: loss {ev['loss']:.4f} acc {ev['accuracy']:.4f}{val} "
                  f"({ev['samples_per_s']:.0f} samples/s, {ev['elapsed']:.0f} s elapsed)")

    try:
        result = engine.train(config, on_event=on_event)
    except (datasets.DatasetUnavailableError, *owndata.ERRORS) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(rundir.status_sentence(result.end, config.to_dict()))
    if lesson is not None:
        mine = lessons.own_figure(lesson, result.run_dir.events())
        print(f"Your {lessons.METRIC_TEXT[lesson.metric]}: "
              + ("-" if mine is None else f"{mine:.4g}")
              + f" ({result.end['n_test']:,} test images, {result.run_dir.events()[0]['n_train']:,}"
              f" training images from {result.dataset.source}); the text's: "
              + ("none reported" if lesson.figure is None else f"{lesson.figure:.4g}") + ".")
    print(f"test accuracy {result.test_accuracy:.4f} (loss {result.test_loss:.4f}) on "
          f"{result.n_test} test images; training accuracy {result.end['train_accuracy']:.4f} "
          f"(loss {result.end['train_loss']:.4f}); run directory {result.run_dir.path}")
    if args.save:
        return _store_change("saved", lambda: store.import_run(
            result.run_dir, args.save, notes=args.notes, **_save_options(args)))
    return 0


def images_dataset_name(folder) -> str:
    """The own dataset that ``train --images DIR`` makes: the folder's name, with what a
    dataset name may not hold (:data:`cnnlib.owndata.pictures.NAME_RE`) made ``_``,
    at most 40 characters; ``images`` when nothing is left."""
    import re

    from cnnlib.owndata.pictures import NAME_RE

    name = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(folder).resolve().name)[:40]
    return name if NAME_RE.match(name) else "images"


def _import_images(args, config):
    """``--images DIR``: the folder imported (again) as the own dataset
    :func:`images_dataset_name` of ``--owner``, replacing an earlier import of that
    name; the config then trains on it (its owner given by tag).

    Raises:
        cnnlib.owndata.OwnDataError (and the other ``owndata.ERRORS``): a bad folder.
    """
    from cnnlib import owndata
    from cnnlib.owndata import refs
    from cnnlib.owners import owner_tag

    own = owndata.OwnDataStore()
    name = images_dataset_name(args.images)
    if any(d.name == name for d in own.list(args.owner)):
        own.delete(args.owner, name)
    ds = own.import_folder(args.owner, name, args.images, size=args.image_size, gray=args.gray)
    print(f"imported {args.images}: {ds.total} pictures of {ds.size}x{ds.size} "
          f"{'gray' if ds.gray else 'RGB'} in {len(ds.class_names)} classes "
          f"({', '.join(f'{c} {n}' for c, n in zip(ds.class_names, ds.counts))}) "
          f"as the dataset {refs.ref(name)} of owner {args.owner!r}, in {ds.path}")
    return dataclasses.replace(config, dataset=refs.ref(name), dataset_owner=owner_tag(args.owner))


def _save_options(args) -> dict:
    """The store's keyword arguments of a save, from the ``train`` flags."""
    return {"owner": args.owner, "overwrite": args.overwrite,
            "overwrite_bundled": args.overwrite_bundled}


def _store_change(done: str, change) -> int:
    """Run ``change()`` (a store call returning a path); print ``done`` and the path, or
    the store's sentence on stderr. Returns the exit status: 0, or 1 on a store error."""
    from cnnlib import store

    try:
        path = change()
    except store.ERRORS as e:
        _print_error(e)
        return 1
    print(f"{done} {path}")
    return 0


def _print_error(e: Exception) -> None:
    from cnnlib import store

    print(f"error: {e}", file=sys.stderr)
    if isinstance(e, store.BundledModelError):
        print("(--overwrite-bundled changes a bundled model.)", file=sys.stderr)


def cmd_models(args) -> int:
    from cnnlib import paths, store

    models = store.list_models()
    if not models:
        print(f"no models in {paths.models_dir()} (bundled) or {paths.user_models_dir()}")
    for m in models:
        print(f"{m.label()} [{_whose(m)}]")
    return 0


def _whose(m) -> str:
    """Whose a listed model is, as far as the command line can tell: the store keeps
    owners as tags (:mod:`cnnlib.owners`), so only the command line's own is named."""
    if m.bundled:
        return "bundled"
    if m.owned_by(CLI_OWNER):
        return f"owner {CLI_OWNER}"
    return "no owner" if m.owner_tag is None else f"owner tag {m.owner_tag}"


def cmd_delete(args) -> int:
    from cnnlib import store

    return _store_change("deleted", lambda: store.delete_model(
        args.name, owner=args.owner, overwrite_bundled=args.overwrite_bundled))


def cmd_prefetch(args) -> int:
    from cnnlib.data import prefetch

    return prefetch.main(datasets=args.datasets, vgg16=args.vgg16)


def _owner_arguments(parser, verb: str) -> None:
    parser.add_argument("--owner", default=CLI_OWNER,
                        help=f"the owner to {verb} (default: {CLI_OWNER!r})")
    parser.add_argument("--overwrite-bundled", action="store_true",
                        help="allow replacing or deleting a model bundled with the app")


def main(argv=None) -> int:
    from cnnlib.training import arguments

    p = argparse.ArgumentParser(prog="python -m cnnlib", description="CNN Studio's library, headless.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model from the zoo",
                       description="Train a model; one flag per TrainConfig field.")
    arguments.add_arguments(t)
    t.add_argument("--save", default=None, metavar="NAME", help="save to the model store as NAME")
    t.add_argument("--overwrite", action="store_true",
                   help="replace a stored model of that name (one of the same owner)")
    _owner_arguments(t, "save as")
    t.add_argument("--notes", default="", help="free text for the model card")
    t.add_argument("--images", default=None, metavar="DIR",
                   help="train on your own pictures: a folder with one sub-folder per class "
                        "(the layout keras.utils.image_dataset_from_directory reads), imported "
                        "as an own dataset of --owner named after the folder (replacing an "
                        "earlier import of that name); --dataset is then ignored")
    t.add_argument("--image-size", type=int, choices=(32, 64, 96), default=64,
                   help="with --images: the side the pictures are centre-cropped and resized "
                        "to, pixels (default: 64)")
    t.add_argument("--gray", action="store_true",
                   help="with --images: keep one channel (luminance) rather than RGB")
    t.set_defaults(func=cmd_train)

    from cnnlib.export import command as export_command

    export_command.add_parser(sub, CLI_OWNER)

    m = sub.add_parser("models", help="list the model store (bundled models first)")
    m.set_defaults(func=cmd_models)

    d = sub.add_parser("delete", help="delete a stored model (one of the same owner)")
    d.add_argument("name", help="the model's name")
    _owner_arguments(d, "delete as")
    d.set_defaults(func=cmd_delete)

    f = sub.add_parser("prefetch", help="download datasets (and VGG16) into the Keras cache")
    f.add_argument("--datasets", nargs="*", default=["mnist", "fashion_mnist", "cifar10"])
    f.add_argument("--vgg16", action="store_true", help="also the VGG16 ImageNet weights and class index")
    f.set_defaults(func=cmd_prefetch)

    args = p.parse_args(argv)
    _quiet_tensorflow()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
