"""The Alembic migrations and the models describe the same schema, up and down."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from db.migrate import alembic_config, downgrade_to_base, upgrade_to_head
from db.models import Base


def test_upgrade_head_matches_the_models_and_downgrade_base_empties(
    db: Engine, database_url: str
) -> None:
    config = alembic_config(database_url)
    command.check(config)  # raises if autogenerate would find any difference

    db.dispose()
    downgrade_to_base(database_url)
    remaining = set(inspect(db).get_table_names()) - {"alembic_version"}
    assert remaining == set()

    upgrade_to_head(database_url)
    db.dispose()
    assert set(inspect(db).get_table_names()) >= set(Base.metadata.tables)
    command.check(config)
