import ContainerBasics
import Foundation

/// `GET /version`.
extension DockerEngine {
    // MARK: - System

    public func version() async throws -> EngineVersion {
        try await decode(EngineVersion.self, EngineRequest("GET", "/version"), as: "version")
    }
}
