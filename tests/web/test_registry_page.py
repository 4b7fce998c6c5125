"""The registry page's figures, computed from the statuses, and the reported ones."""

import html
import re
from collections import Counter

from tests.conftest import TOKEN
from tests.web.experiments_helpers import (
    SCEAUX,
    body,
    form_for,
    section,
    stored,
)


def figures(client) -> tuple[str, str, str]:
    page = body(client.get("/experimentations"))
    total = re.search(r'<dd id="fig-total">([^<]*)</dd>', page).group(1)
    rate = re.search(r'<dd id="fig-rate">([^<]*)</dd>', page).group(1)
    table = section(page, 'id="district-figures"', "</table>")
    sceaux_row = section(table, f'href="/quartiers/{SCEAUX}"', "</tr>")
    return total, rate, sceaux_row


def test_registry_figures_are_computed_from_statuses(sceaux, anon, store, atlas):
    seed = Counter(e["status"] for e in store.list_experiments())
    assert seed == {"déployée": 2, "sélectionnée": 2}  # the three of Aulnay, EcoFlow (Noisy)
    first = stored(store, atlas, SCEAUX, title="S1", status="sélectionnée")
    second = stored(store, atlas, SCEAUX, title="S2", status="déployée")
    stored(store, atlas, SCEAUX, title="S3", status="proposée")
    # deployed (2 + 1) / selected or beyond (4 + 2) ; Sceaux 1 / 2
    total, rate, row = figures(anon)
    assert (total, rate) == ("7", "50 %")
    assert "<td>50 %</td>" in row and "<td>3</td>" in row
    r = sceaux.post(
        f"/experimentations/{first['id']}",
        data=form_for(atlas, SCEAUX, title="S1", status="terminée", version="1"),
    )
    assert r.status_code == 302
    # deployed or finished (3 + 1) / 6 ; Sceaux 2 / 2
    total, rate, row = figures(anon)
    assert (total, rate) == ("7", "67 %")
    assert "<td>100 %</td>" in row
    sceaux.post(
        f"/experimentations/{second['id']}/retirer", data={"csrf_token": TOKEN, "version": "1"}
    )
    # withdrawn ones do not count: (2 + 1) / (4 + 1) ; Sceaux 1 / 1
    total, rate, row = figures(anon)
    assert (total, rate) == ("6", "60 %")
    assert "<td>100 %</td>" in row and "<td>2</td>" in row


def test_registry_without_selected_experiments_has_no_rate(anon, admin, store):
    for e in store.list_experiments():
        admin.post(
            f"/experimentations/{e['id']}/retirer",
            data={"csrf_token": TOKEN, "version": str(e["version"])},
        )
    total, rate, _ = figures(anon)
    assert (total, rate) == ("0", "non calculable (aucune sélectionnée)")


def test_registry_shows_the_reported_figures_apart(anon):
    page = html.unescape(body(anon.get("/experimentations")))
    reported = section(page, '<article class="card reported">', "</article>")
    assert "Chiffres publiés par le programme" in reported
    assert "<dd>18</dd>" in reported and "<dd>70 %</dd>" in reported
    assert "Chiffres déclarés, cités tels quels" in reported
    computed = section(page, '<article class="card">', "</article>")
    assert "Programme (registre)" in computed and "70 %" not in computed
    assert "calculés à partir du registre" in page
