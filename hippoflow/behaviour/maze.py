"""The one virtual maze of the lab's task, shared by the Unity reader, the raycaster and the
synthetic writers.

Inputs: none (constants). Outputs: the screen and camera of the Unity display.
"""

from __future__ import annotations

# The Unity display the monkey sees and the EyeLink gaze coordinates refer to (pixels).
SCREEN_W, SCREEN_H = 1920, 1080
SCREEN = (SCREEN_W, SCREEN_H)
