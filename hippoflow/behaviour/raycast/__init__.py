"""The gaze raycaster: numba kernels casting each gaze sample's disc of rays onto the maze
(``kernels``), the bin names (``bins``) and the two output files (``outputs``)."""
