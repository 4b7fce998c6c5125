"""Pure spatial analysis on GeoDataFrames, always in the one metric CRS.

Nothing here imports Flask, folium, the store or ``geoapp.errors``: inputs are
GeoDataFrames in ``ANALYSIS_CRS`` (Lambert-93, metres) and outputs are GeoDataFrames or
dataclasses.

Errors. Analysis refuses bad inputs with ``ValueError`` and knows no HTTP status. Every
message is French, since some reach people: a what-if point too far from any corridor is
shown to the user who placed it, a perimeter rule naming an unknown station stops
start-up. A message that names an argument starts with its name (``corridors : …``).

Two kinds are kept apart, because only one may become a user message:

- `RefusedInputError` (a ``ValueError``): well-formed inputs whose *values*, chosen by a
  person (a point, a district's rule), cannot be answered for. The edges that pass such
  values wrap exactly this type: the web as a 422 ``GeoappError``, the atlas as a
  start-up error naming the data file and the district.
- any other ``ValueError``: a caller's mistake (wrong CRS, a missing column, a negative
  distance). It is a bug, so nobody wraps it: it stays a logged 500 or a traceback.
"""

ANALYSIS_CRS = "EPSG:2154"
DISPLAY_CRS = "EPSG:4326"


class RefusedInputError(ValueError):
    """A value chosen by a person that the analysis cannot answer for; French message.

    Subclassing ``ValueError`` keeps the one analysis contract (callers that catch
    ``ValueError`` still do); the subclass lets an edge show this message without also
    showing the caller bugs that plain ``ValueError`` reports.
    """
