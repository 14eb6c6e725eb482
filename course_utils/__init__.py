"""Support code for the course "Compressing a neural network with the SVD".

Each module holds one idea; its docstring names the notebook that introduces it.
"""

from course_utils.session import pick_device, seed_everything, setup

__all__ = ["pick_device", "seed_everything", "setup"]
