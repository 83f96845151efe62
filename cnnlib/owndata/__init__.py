"""People's own image datasets: made in the app from uploads and camera frames, or
imported from a zip, kept per owner, exported, and handed to training.

- :mod:`~cnnlib.owndata.reader`: the datasets on disk under
  ``$CNN_STUDIO_HOME/datasets/<owner tag>/<name>/`` (a PNG per picture, a folder per
  class, a JSON card) and :class:`OwnDataReader`, which lists and reads them; only the
  owner lists or reads one (a training worker reads by the tag of its run's config).
- :mod:`~cnnlib.owndata.store`: :class:`OwnDataStore`, the reader with the atomic
  writes (make, fill, remove, delete, import); only the owner changes or deletes one.
- :mod:`~cnnlib.owndata.pictures`: untrusted bytes through the bounded decoder to a
  square 32, 64 or 96 pixel uint8 picture; the names a dataset and a class may have.
- :mod:`~cnnlib.owndata.zipfiles`: the zip layout of ``keras.utils.image_dataset_from_directory``,
  read with every bound checked before anything is decompressed, and written.
- :mod:`~cnnlib.owndata.limits`: ``CNN_STUDIO_MAX_OWN_IMAGES`` (2,000 pictures a person)
  and ``CNN_STUDIO_MAX_OWN_MB`` (200 MB a person).
- :mod:`~cnnlib.owndata.split`: a dataset as a :class:`cnnlib.data.datasets.Dataset`,
  stratified splits.

Every refusal is an error of :data:`~cnnlib.owndata.errors.ERRORS` whose message is one
sentence to show as it is. Importing this package imports neither TensorFlow nor Pillow.
"""

from cnnlib.owndata.errors import (  # noqa: F401
    ERRORS,
    DatasetExistsError,
    DatasetNotFoundError,
    NotOwnerError,
    OwnDataError,
    OwnDataWriteError,
    OwnLimitError,
)
from cnnlib.owndata.limits import ENV_MAX_IMAGES, ENV_MAX_MB, OwnLimits  # noqa: F401
from cnnlib.owndata.pictures import SIZES  # noqa: F401
from cnnlib.owndata.reader import OwnDataReader, OwnDataset  # noqa: F401
from cnnlib.owndata.split import as_dataset, three_way_split  # noqa: F401
from cnnlib.owndata.store import OwnDataStore  # noqa: F401
