"""The school's input files (STS-Web and SIECLE exports): safe reading, checks before any browser
action, and the counts the import should give. Talks about files only, never about a site's pages."""
from .checks import BASCULE_MONTH, FilesSummary, check_school_files, read_school_file, school_year
from .models import (Address, Division, ElevesFile, Group, Parent, ResponsablesFile, ResponsibilityLink,
                     Service, SourceInfo, StsFile, Student, Subject, Teacher)
from .xmlsafe import MAX_FILE_BYTES

__all__ = [
    "BASCULE_MONTH", "MAX_FILE_BYTES", "FilesSummary", "check_school_files", "read_school_file", "school_year",
    "Address", "Division", "ElevesFile", "Group", "Parent", "ResponsablesFile", "ResponsibilityLink", "Service",
    "SourceInfo", "StsFile", "Student", "Subject", "Teacher",
]
