"""Behaviour (rules/behaviour.smk): the maze, Unity logs, EyeLink files, alignment onto the
Ripple clock and the gaze raycast; ``steps`` holds one function per rule."""
