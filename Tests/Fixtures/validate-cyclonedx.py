# Validates CycloneDX 1.6 JSON documents with cyclonedx-python-lib's strict JSON validator (the
# specification's schema). Prints "valid" per file, or the errors; exits 1 on any invalid one.
import sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

validator = JsonStrictValidator(SchemaVersion.V1_6)
failed = False
for path in sys.argv[1:]:
    with open(path) as handle:
        errors = validator.validate_str(handle.read())
    if errors:
        failed = True
        print(f"{path}: INVALID: {errors}")
    else:
        print(f"{path}: valid")
sys.exit(1 if failed else 0)
