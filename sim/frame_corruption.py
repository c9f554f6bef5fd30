"""How `corrupt` edits a frame: re-exported from `statecharts.frame_corruption`."""

from statecharts.frame_corruption import NOT_JSON, corrupt_frame, truncate, wrong_shape

__all__ = ["NOT_JSON", "corrupt_frame", "truncate", "wrong_shape"]
