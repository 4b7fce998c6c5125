"""The atlas start-up checks on the district facts file."""

import pytest

from geoapp.atlas import load_facts
from geoapp.layers import LayerError


def test_deeply_nested_facts_file_is_refused_by_name(tmp_path):
    path = tmp_path / "quartiers.json"
    path.write_text('{"quartiers": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(LayerError, match="quartiers.json : .*imbriqué"):
        load_facts(path)
