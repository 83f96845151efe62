'''The data part of a run's exported code: load the run's dataset and split it as the run did.

Two sources, one ending. A built-in dataset is read from ``--data-dir`` (the
``CNN_STUDIO_DATA_DIR`` folder of ``<name>.npz``), else from ``keras.datasets``. An own
dataset (``TrainConfig.dataset = "own:<name>"``) is read from its folder, the zip of
the Your images page unzipped (``<name>/<class>/<id>.png``), at ``DATA_DIR``, a line
at the top of the script (default: the folder ``<name>`` next to the script); its PNG
pictures are decoded with Pillow and its test pictures held out as
:meth:`cnnlib.owndata.store.OwnDataStore.dataset_for_training` does (stratified, the
run's seed). Then, for both: the stratified ``n_train`` and ``n_test`` subsets, the
validation split, pixels to float32 [0, 1] (and standardize) exactly as
:func:`cnnlib.training.engine.train` does, with the library's own functions copied in
(:func:`cnnlib.data.datasets.stratified_indices`, :func:`cnnlib.rundir.images_digest`).

The code prints ``DATA <n_train> <n_val> <n_test>`` and ``TEST_IMAGES <digest>
<counts per class>``: the digest of the uint8 test images, in order, which the run
stored too (a script run on another version of the data says so).
'''

from __future__ import annotations

import inspect
import textwrap

from cnnlib.data import datasets
from cnnlib.owndata import refs
from cnnlib.training.config import TrainConfig


def _source(function) -> str:
    return textwrap.dedent(inspect.getsource(function))


def _own_test_fraction() -> float:
    """The share of an own dataset that training holds out for the test: the default of
    ``dataset_for_training``'s ``test_fraction``, which the engine does not pass."""
    from cnnlib.owndata.store import OwnDataStore

    return inspect.signature(OwnDataStore.dataset_for_training).parameters["test_fraction"].default


def requirements(config: TrainConfig) -> tuple[str, str]:
    """``(packages, imports)``: the packages the script needs, for its docstring, and the
    import lines beyond Keras, TensorFlow and numpy ("" or Pillow's, for an own dataset)."""
    if refs.is_own(config.dataset):
        return ("tensorflow (with Keras 3), numpy and Pillow",
                "from PIL import Image  # Pillow, which keras.utils.load_img uses too\n")
    return "tensorflow (with Keras 3) and numpy", ""


def data_argument(config: TrainConfig) -> tuple[str, str]:
    """``(setting, argument)``: lines before the argument parser (an own dataset's
    ``DATA_DIR``, else "") and the ``--data-dir`` argument."""
    if refs.is_own(config.dataset):
        name = refs.name_of(config.dataset)
        setting = (
            "# The dataset's pictures: its zip from CNN Studio's Your images page, unzipped (one\n"
            "# folder per class of PNG pictures). Set the path here, or pass --data-dir.\n"
            'HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()\n'
            f"DATA_DIR = HERE / {name!r}\n\n")
        argument = ('parser.add_argument("--data-dir", default=str(DATA_DIR),\n'
                    '                    help="the dataset\'s folder: one sub-folder of PNG pictures '
                    'per class (default: DATA_DIR, %(default)s)")')
        return setting, argument
    info = datasets.DATASETS[config.dataset]
    return "", (
        'parser.add_argument("--data-dir", default=os.environ.get("CNN_STUDIO_DATA_DIR"),\n'
        f'                    help="folder with {info.file_name} (the layout keras.datasets returns); "\n'
        '                         "default $CNN_STUDIO_DATA_DIR, else keras.datasets (downloads once)")')


def _builtin_loader(config: TrainConfig) -> str:
    info = datasets.DATASETS[config.dataset]
    return f'''DATASET = {config.dataset!r}
CLASSES_KEPT = {info.classes_kept!r}  # None: all classes; else these labels, renumbered 0..k-1


def load_data(data_dir):
    """uint8 images (N, H, W, C) 0..255 and int64 labels (N,), for training and test."""
    path = Path(data_dir) / {info.file_name!r} if data_dir else None
    if path is not None and path.is_file():
        with np.load(path, allow_pickle=False) as f:
            splits = ((f["x_train"], f["y_train"]), (f["x_test"], f["y_test"]))
    else:
        splits = keras.datasets.{info.keras_name}.load_data()
    out = []
    for x, y in splits:
        x = np.asarray(x, dtype=np.uint8)
        x = x[..., None] if x.ndim == 3 else x  # (N, H, W) -> (N, H, W, 1)
        y = np.asarray(y).reshape(-1).astype(np.int64)
        if CLASSES_KEPT is not None:
            keep = np.isin(y, CLASSES_KEPT)
            x, y = x[keep], np.searchsorted(np.array(CLASSES_KEPT), y[keep])
        out += [x, y]
    return out


{_source(datasets.stratified_indices)}

# The same subsets as the run when the same file is read (same order, same seed);
# from keras.datasets (the full official split) the subset differs if the run read
# a partial file.
x_train_all, y_train_all, x_test_all, y_test_all = load_data(args.data_dir)'''


def _own_loader(config: TrainConfig, class_names: list[str], image_shape) -> str:
    gray = image_shape[-1] == 1
    return f'''CLASS_NAMES = {list(class_names)!r}  # label i is CLASS_NAMES[i], as in the run
IMAGE_SHAPE = {tuple(image_shape)!r}  # (H, W, C) of every picture
TEST_FRACTION = {_own_test_fraction()!r}  # of each class, held out for the test as CNN Studio does


def load_folder(data_dir):
    """uint8 pictures (N, H, W, C) 0..255 and int64 labels (N,): each class's folder of
    PNG files, classes in CLASS_NAMES order, files by name (as CNN Studio reads them)."""
    xs, ys = [], []
    for label, name in enumerate(CLASS_NAMES):
        folder = Path(data_dir) / name
        if not folder.is_dir():
            raise SystemExit(f"No folder {{folder}}: set DATA_DIR (or --data-dir) to the dataset's "
                             "folder, the zip of the Your images page unzipped.")
        for path in sorted(folder.glob("*.png")):
            with Image.open(path) as img:
                a = np.asarray(img.convert({"L" if gray else "RGB"!r}), dtype=np.uint8)
            if a.shape[:2] != IMAGE_SHAPE[:2]:
                raise SystemExit(f"{{path}} is {{a.shape[1]}}x{{a.shape[0]}} pixels, not "
                                 f"{{IMAGE_SHAPE[1]}}x{{IMAGE_SHAPE[0]}}.")
            xs.append(a.reshape(IMAGE_SHAPE))
            ys.append(label)
    return np.stack(xs), np.asarray(ys, dtype=np.int64)


{_source(datasets.stratified_indices)}

def held_out(y, fraction, seed):
    """Sorted indices of a stratified round(len(y) * fraction) of labels y (at least 1)."""
    if fraction <= 0 or len(y) == 0:
        return np.arange(0, dtype=np.int64)
    return np.sort(stratified_indices(y, max(1, round(len(y) * fraction)), seed))


x_all, y_all = load_folder(args.data_dir)
test_part = held_out(y_all, TEST_FRACTION, SEED)
train_part = np.setdiff1d(np.arange(len(y_all)), test_part)
x_train_all, y_train_all = x_all[train_part], y_all[train_part]
x_test_all, y_test_all = x_all[test_part], y_all[test_part]'''


def _split(config: TrainConfig) -> str:
    if config.validation == "test":
        return ("# validation on the test images, as the tutorials do\n"
                "x_val, y_val = x_test, y_test\n"
                "train_idx = np.arange(len(y_train_all))")
    return (f"VALIDATION_SPLIT = {config.validation_split!r}  # held out from the training images\n"
            "if VALIDATION_SPLIT > 0:\n"
            "    n_val = max(1, int(round(len(y_train_all) * VALIDATION_SPLIT)))\n"
            "    val_idx = stratified_indices(y_train_all, n_val, seed=SEED + 1)\n"
            "else:\n"
            "    val_idx = np.arange(0)\n"
            "train_idx = np.setdiff1d(np.arange(len(y_train_all)), val_idx)\n"
            "x_val, y_val = to_float(x_train_all[val_idx]), y_train_all[val_idx]")


def data_cell(config: TrainConfig, class_names: list[str], image_shape,
              test_digest: str | None) -> str:
    """The data cell of a run's script.

    Args:
        config: the run's settings.
        class_names: the run's classes in label order (its start event's).
        image_shape: ``(H, W, C)`` of the run's model input.
        test_digest: :func:`cnnlib.rundir.images_digest` of the run's uint8 test images,
            or None when the run stored none.

    Returns:
        Python source that defines ``x_train, y_train, x_val, y_val, x_test, y_test``
        (float32 ``(N, H, W, C)`` in [0, 1] and int64 ``(N,)``), ``SEED``, ``to_float``,
        ``stratified_indices``, and ``MEAN, STD`` for a standardized run; it needs
        ``args.data_dir`` and the imports of the script's header.

    Raises:
        cnnlib.owndata.OwnDataError: an own dataset's reference is malformed.
    """
    from cnnlib.rundir import images_digest

    own = refs.is_own(config.dataset)
    loader = _own_loader(config, class_names, image_shape) if own else _builtin_loader(config)
    standardize = ("\nMEAN, STD = float(x_train.mean()), float(x_train.std())  # over all training pixels"
                   if config.normalization == "standardize" else "")
    return f'''SEED = {config.seed!r}
N_TRAIN = {config.n_train!r}  # a stratified subset of the training images (None: all)
N_TEST = {config.n_test!r}  # a stratified subset of the test images (None: all)
RUN_TEST_IMAGES = {test_digest!r}  # the digest of the run's test images (None: not stored)

{loader}


{_source(images_digest)}

def to_float(images):
    """uint8 0..255 -> float32 [0, 1]."""
    return np.asarray(images, dtype=np.float32) / np.float32(255.0)


if N_TRAIN is not None:
    keep = stratified_indices(y_train_all, N_TRAIN, SEED)
    x_train_all, y_train_all = x_train_all[keep], y_train_all[keep]
test_idx = np.arange(len(y_test_all)) if N_TEST is None else stratified_indices(y_test_all, N_TEST, SEED)
x_test, y_test = to_float(x_test_all[test_idx]), y_test_all[test_idx]  # (N, H, W, C) float32 [0, 1]
{_split(config)}
x_train, y_train = to_float(x_train_all[train_idx]), y_train_all[train_idx]{standardize}
print("DATA", len(x_train), len(x_val), len(x_test))
digest = images_digest(x_test_all[test_idx])
print("TEST_IMAGES", digest, json.dumps(np.bincount(y_test).tolist()))
if RUN_TEST_IMAGES is not None and digest != RUN_TEST_IMAGES:
    print("Note: these test images are not the run's (another version of the data?): "
          "its accuracy cannot be compared.")'''
