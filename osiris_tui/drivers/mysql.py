"""mysql.extractor and mysql.writer drivers (see mysql_extract.py and mysql_write.py)."""

from osiris_tui.drivers.mysql_extract import MySQLExtractor
from osiris_tui.drivers.mysql_write import MySQLWriter

__all__ = ["MySQLExtractor", "MySQLWriter"]
