"""What one person may keep of their own pictures on a shared server: each limit has
an environment variable, read on every call."""

from __future__ import annotations

import dataclasses

from cnnlib.intake.limits import (
    _env_int,  # one reader of whole numbers from the environment
)

ENV_MAX_IMAGES = "CNN_STUDIO_MAX_OWN_IMAGES"
ENV_MAX_MB = "CNN_STUDIO_MAX_OWN_MB"


@dataclasses.dataclass(frozen=True)
class OwnLimits:
    """A person's budget, over all their datasets together.

    Attributes:
        max_images: pictures (``$CNN_STUDIO_MAX_OWN_IMAGES``, default 2,000).
        max_mb: megabytes (2**20 bytes) of stored PNG files, and of the pictures a zip
            declares once unpacked (``$CNN_STUDIO_MAX_OWN_MB``, default 200).
    """

    max_images: int = 2000
    max_mb: int = 200

    @property
    def max_bytes(self) -> int:
        return self.max_mb * 2**20

    @classmethod
    def from_env(cls) -> OwnLimits:
        """The limits with the environment's variables applied.

        Raises:
            ValueError: a variable that is not a positive whole number (named).
        """
        base = cls()
        return cls(_env_int(ENV_MAX_IMAGES, base.max_images), _env_int(ENV_MAX_MB, base.max_mb))

    def images_sentence(self, have: int, adding: int) -> str:
        return (f"That would make {have + adding:,} pictures in your datasets; a person may keep "
                f"{self.max_images:,} on this server ({ENV_MAX_IMAGES}={self.max_images}). "
                "Remove some pictures or datasets first.")

    def bytes_sentence(self, have: int, adding: int) -> str:
        return (f"That would make {(have + adding) / 2**20:,.1f} MB of pictures in your datasets; "
                f"a person may keep {self.max_mb:,} MB on this server "
                f"({ENV_MAX_MB}={self.max_mb}). Remove some pictures or datasets first.")
