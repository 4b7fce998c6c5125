"""Who changed what, as pages and APIs show it: a role and a commune, never an account name.

The store keeps the account name in ``created_by``, ``updated_by`` and each history row
(the audit trail). Public output replaces it with a label built from the account's role
and commune, e.g. « éditeur Sceaux » or « administrateur Métropole »; a removed account
is « compte supprimé », the seeded programme data « import initial ».
"""

from __future__ import annotations

from flask import current_app, g

from geoapp.vocabulary import ADMIN, ROLE_LABELS

SEED_AUTHOR = "seed"  # geoapp.store: the author of the seeded experiments
SEED_LABEL = "import initial"
REMOVED_LABEL = "compte supprimé"


def role_label(role: str) -> str:
    """The role as French prose (``editeur`` -> « éditeur »)."""
    return ROLE_LABELS.get(role, role)


def account_label(account: dict, communes: dict[str, str]) -> str:
    """« éditeur <commune> » or « administrateur Métropole »."""
    if account["role"] == ADMIN:
        return f"{role_label(account['role'])} Métropole"
    commune = account.get("commune") or ""
    return f"{role_label(account['role'])} {communes.get(commune, commune)}".strip()


def _labels() -> dict[str, str]:
    """Every account's label by case-folded name, read once per request."""
    if "public_labels" not in g:
        districts = current_app.extensions["qmi_atlas"].districts
        communes = dict(zip(districts["code_insee"], districts["commune"], strict=True))
        accounts = current_app.extensions["qmi_store"].list_users()
        g.public_labels = {a["username"].casefold(): account_label(a, communes) for a in accounts}
    return g.public_labels


def public_author(username: str | None) -> str:
    """The label that stands for ``username`` in public output."""
    if username == SEED_AUTHOR:
        return SEED_LABEL
    return _labels().get((username or "").casefold(), REMOVED_LABEL)


def public_experiment(experiment: dict) -> dict:
    """A copy of a stored experiment with its authors replaced by their labels."""
    return {
        **experiment,
        **{
            k: public_author(experiment[k]) for k in ("created_by", "updated_by") if k in experiment
        },
    }


def public_history(history: list[dict], *, with_accounts: bool = False) -> list[dict]:
    """History rows with ``user`` as a label; ``with_accounts`` (administrators) also keeps
    the account name as ``account``."""
    return [
        {
            **row,
            "user": public_author(row["user"]),
            **({"account": row["user"]} if with_accounts else {}),
        }
        for row in history
    ]
