"""supabase.extractor and supabase.writer (compat §6), through supabase-py / PostgREST.

The implementations live in :mod:`supabase_extract`, :mod:`supabase_write` and :mod:`supabase_client`;
this module is the import path the driver registry uses.
"""

from __future__ import annotations

from osiris_tui.drivers.supabase_extract import SupabaseExtractor
from osiris_tui.drivers.supabase_write import SupabaseWriter

__all__ = ["SupabaseExtractor", "SupabaseWriter"]
