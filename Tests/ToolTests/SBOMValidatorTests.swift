import Foundation
import Inventory
import Testing

/// imagegen's SBOMs against the reference tools from PyPI: SPDX's validator, CycloneDX's schema
/// validator, and NTIA's minimum elements (a real family's documents are checked in the
/// integration tests; these are small ones, every branch of the writers).
@Suite("SBOMs and their validators")
struct SBOMValidatorTests {
    @Test("SPDX 2.3 (with and without files) passes pyspdxtools and the NTIA minimum elements; CycloneDX 1.6 (with and without files) passes its JSON schema")
    func validate() throws {
        let (inventory, subject) = try PackageFixtures.sample()
        let scratch = Scratch()
        let spdxTool = try #require(which("pyspdxtools"), "pyspdxtools is needed (make test installs spdx-tools)")
        let ntia = try #require(which("ntia-checker"), "ntia-checker is needed (make test installs ntia-conformance-checker)")
        for files in [false, true] {
            let spdx = scratch.write("image-\(files).spdx.json", SBOM.document(inventory, subject: subject, format: .spdxJSON, files: files).pretty)
            let valid = try run(spdxTool, ["-i", spdx])
            #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
            let conformance = try run(ntia, [spdx])
            #expect(conformance.stdout.contains("Conformant: True"), "\(conformance.stdout)")
            let cyclonedx = scratch.write("image-\(files).cdx.json", SBOM.document(inventory, subject: subject, format: .cyclonedxJSON, files: files).pretty)
            let checked = try run("/usr/bin/env", ["python3", repositoryRoot + "/Tests/Fixtures/validate-cyclonedx.py", cyclonedx])
            #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        }
        // The validators refuse what is wrong: they are not saying yes to everything.
        let broken = scratch.write("broken.spdx.json", "{\"spdxVersion\": \"SPDX-2.3\"}\n")
        #expect(try run(spdxTool, ["-i", broken]).status != 0)
        let brokenCDX = scratch.write("broken.cdx.json", "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": [{\"type\": \"nonsense\"}]}\n")
        #expect(try run("/usr/bin/env", ["python3", repositoryRoot + "/Tests/Fixtures/validate-cyclonedx.py", brokenCDX]).status != 0)
    }
}
