import ContainerBasics
import Foundation

/// `GET /version` and `GET /info`.
extension DockerEngine {
    // MARK: - System

    public func version() async throws -> EngineVersion {
        try await decode(EngineVersion.self, EngineRequest("GET", "/version"), as: "version")
    }

    /// `GET /info`: the storage driver, the data root, the architecture.
    public func info() async throws -> EngineInfo {
        try await decode(EngineInfo.self, EngineRequest("GET", "/info"), as: "info")
    }
}
