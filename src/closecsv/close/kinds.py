"""What differs between custom activities and custom objects, as data.

The importer and exporter are one pipeline each; a :class:`Kind` tells them the endpoint,
the type and id columns, and the standard columns of that kind (README: "CSV format", "export").
"""

from __future__ import annotations

from dataclasses import dataclass

LEAD_COLUMNS = ("lead_id", "lead_name", "lead_email", "lead_phone")


@dataclass(frozen=True)
class Kind:
    name: str  # "activities" | "objects": the CLI word
    noun: str  # "custom activity" | "custom object": for messages
    type_column: str  # CSV column naming the type
    id_column: str  # CSV column holding an existing instance's id (update rows)
    type_id_key: str  # API key of the type id on an instance
    type_id_prefix: str  # "actitype_" | "cotype_"
    instance_path: str  # list/create endpoint, relative to the API base
    type_list_path: str  # list of types
    field_schema_path: str  # + "<type id>/" gives the full field schema
    standard_columns: tuple[str, ...]  # importable non-custom columns, in export order
    readonly_columns: tuple[str, ...]  # exported, accepted and ignored on import

    def instance_url(self, instance_id: str) -> str:
        return f"{self.instance_path}{instance_id}/"


ACTIVITIES = Kind(
    name="activities",
    noun="custom activity",
    type_column="custom_activity_type",
    id_column="activity_id",
    type_id_key="custom_activity_type_id",
    type_id_prefix="actitype_",
    instance_path="activity/custom/",
    type_list_path="custom_activity/",
    field_schema_path="custom_field_schema/activity/",
    standard_columns=(
        "activity_id",
        "custom_activity_type",
        *LEAD_COLUMNS,
        "user",
        "contact",
        "date_created",
        "activity_at",
        "status",
        "pinned",
    ),
    readonly_columns=("date_updated", "created_by", "updated_by"),
)

OBJECTS = Kind(
    name="objects",
    noun="custom object",
    type_column="custom_object_type",
    id_column="custom_object_id",
    type_id_key="custom_object_type_id",
    type_id_prefix="cotype_",
    instance_path="custom_object/",
    type_list_path="custom_object_type/",
    field_schema_path="custom_field_schema/custom_object/",
    standard_columns=("custom_object_id", "custom_object_type", "name", *LEAD_COLUMNS),
    readonly_columns=("date_created", "date_updated", "created_by", "updated_by"),
)

KINDS = {k.name: k for k in (ACTIVITIES, OBJECTS)}
