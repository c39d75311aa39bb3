"""Cleaners, one module per kind of value, chosen by the field's semantic type."""

from __future__ import annotations

from crm_migrate.cleaners.address import clean_address
from crm_migrate.cleaners.base import CleanContext, Cleaned, Cleaner, clean_column
from crm_migrate.cleaners.codes import clean_id_card, clean_uscc
from crm_migrate.cleaners.company import clean_company_name
from crm_migrate.cleaners.dates import clean_date
from crm_migrate.cleaners.email import clean_email
from crm_migrate.cleaners.money import clean_money
from crm_migrate.cleaners.person import clean_person_name
from crm_migrate.cleaners.phone import clean_phone
from crm_migrate.cleaners.text import clean_id, clean_number, clean_text, clean_url
from crm_migrate.mappings.entities import FieldType

CLEANERS: dict[FieldType, Cleaner] = {
    FieldType.id: clean_id,
    FieldType.text: clean_text,
    FieldType.picklist: clean_text,
    FieldType.address: clean_address,
    FieldType.company_name: clean_company_name,
    FieldType.person_name: clean_person_name,
    FieldType.phone: clean_phone,
    FieldType.email: clean_email,
    FieldType.uscc: clean_uscc,
    FieldType.id_card: clean_id_card,
    FieldType.date: clean_date,
    FieldType.money: clean_money,
    FieldType.number: clean_number,
    FieldType.url: clean_url,
}

__all__ = ["CLEANERS", "CleanContext", "Cleaned", "Cleaner", "clean_column"]
