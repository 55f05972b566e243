# Checks in-toto statements against the in-toto attestation framework's own bindings (PyPI:
# in-toto-attestation): the Statement v1 shape (protobuf, unknown fields refused) and its rules
# (type, subjects with digests, a predicate), and the predicate as a SLSA provenance v1 (the
# same bindings), with what SLSA requires: buildDefinition.buildType, externalParameters,
# runDetails.builder.id. Prints "valid" per file; exits 1 on any invalid one.
import json, sys
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2

failed = False
for path in sys.argv[1:]:
    try:
        with open(path) as handle:
            document = json.load(handle)
        statement = json_format.ParseDict(document, statement_pb2.Statement())
        Statement.copy_from_pb(statement).validate()
        if document["predicateType"] != "https://slsa.dev/provenance/v1":
            raise ValueError("predicateType is not SLSA provenance v1")
        provenance = json_format.ParseDict(document["predicate"], provenance_pb2.Provenance())
        if not provenance.build_definition.build_type:
            raise ValueError("buildDefinition.buildType is required")
        if not provenance.build_definition.external_parameters:
            raise ValueError("buildDefinition.externalParameters is required")
        if not provenance.run_details.builder.id:
            raise ValueError("runDetails.builder.id is required")
        for dependency in provenance.build_definition.resolved_dependencies:
            if not (dependency.uri or dependency.name or dependency.digest):
                raise ValueError("a resolved dependency names nothing")
        print(f"{path}: valid")
    except Exception as error:
        failed = True
        print(f"{path}: INVALID: {error}")
sys.exit(1 if failed else 0)
