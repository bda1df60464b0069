"""The two API functions' settings. Both serve routers of the same modules: a router reads at import
the tables that both functions have (the template's Globals), and what only one function has
through that function's settings, which its module validates at import (then cached)."""

from functools import cache

from pydantic import Field

from orders_domain.settings import (
    IdempotencyTable,
    ImportStorage,
    InventoryTable,
    OrdersTable,
    UsersTable,
)


class ApiTables(UsersTable, InventoryTable, OrdersTable):
    """What every route may read."""


class StorefrontSettings(ApiTables, IdempotencyTable):
    pass


class BackOfficeSettings(ApiTables, ImportStorage):
    user_pool_id: str = Field(alias="USER_POOL_ID", min_length=1)  # where staff invite customers
    # A REST API's proxy responses carry their own CORS headers (API Gateway adds them only to preflights).
    cors_allow_origin: str = Field(alias="CORS_ALLOW_ORIGIN", min_length=1)


@cache
def api_tables() -> ApiTables:
    return ApiTables.from_environment()


@cache
def storefront_settings() -> StorefrontSettings:
    return StorefrontSettings.from_environment()


@cache
def back_office_settings() -> BackOfficeSettings:
    return BackOfficeSettings.from_environment()
