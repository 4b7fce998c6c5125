"""Pure spatial analysis on GeoDataFrames, always in the one metric CRS.

Nothing here imports Flask, folium or the store: inputs are GeoDataFrames in
``ANALYSIS_CRS`` (Lambert-93, metres) and outputs are GeoDataFrames or dataclasses.
"""

ANALYSIS_CRS = "EPSG:2154"
DISPLAY_CRS = "EPSG:4326"
