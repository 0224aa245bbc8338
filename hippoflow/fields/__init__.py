"""Place and view fields of every cell: rate maps, Skaggs information and its significance.

maps.py (samples, occupancy, counts, smoothing), information.py (Skaggs information, the
circular-shift null, peak and field size), steps.py (the fields rules' steps).
"""
