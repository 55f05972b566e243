import ContainerBasics
import Foundation

/// Images: inspect, history, list, tag, remove, export, import, pull, push.
extension DockerEngine {
    // MARK: - Images

    /// The image's details, or nil when the engine has no such image.
    public func inspectImage(_ name: String) async throws -> ImageInspect? {
        do {
            return try await decode(ImageInspect.self, EngineRequest("GET", "/images/\(URLEncoding.pathSegment(name))/json"), as: "inspect")
        } catch let error as DockerEngineError where error.isNotFound {
            return nil
        }
    }

    public func inspectImage(_ reference: ImageReference) async throws -> ImageInspect? { try await inspectImage(reference.description) }
    public func inspectImage(_ id: ImageID) async throws -> ImageInspect? { try await inspectImage(id.description) }

    public func history(_ name: String) async throws -> [ImageHistoryItem] {
        try await decode([ImageHistoryItem].self, EngineRequest("GET", "/images/\(URLEncoding.pathSegment(name))/history"), as: "history")
    }

    public func history(_ reference: ImageReference) async throws -> [ImageHistoryItem] { try await history(reference.description) }

    /// Images carrying every one of `labels` (`key=value` or `key`).
    public func listImages(labels: [String]) async throws -> [ImageSummary] {
        let filters = Self.json(["label": labels])
        return try await decode([ImageSummary].self, EngineRequest("GET", "/images/json", query: [("filters", filters)]), as: "list")
    }

    /// Gives `source` (an image ID or reference) the tag `repository:tag`.
    public func tag(_ source: String, repository: Repository, tag: Tag) async throws {
        try await discard(
            EngineRequest(
                "POST", "/images/\(URLEncoding.pathSegment(source))/tag",
                query: [("repo", repository.description), ("tag", tag.value)]), as: "tag")
    }

    public func tag(_ source: ImageID, repository: Repository, tag: Tag) async throws {
        try await self.tag(source.description, repository: repository, tag: tag)
    }

    /// Removes an image or a tag of it (`noPrune` keeps untagged parents).
    public func removeImage(_ name: String, force: Bool = false, noPrune: Bool = false) async throws {
        try await discard(
            EngineRequest(
                "DELETE", "/images/\(URLEncoding.pathSegment(name))",
                query: [("force", force ? "1" : "0"), ("noprune", noPrune ? "1" : "0")]), as: "remove")
    }

    public func removeImage(_ reference: ImageReference, force: Bool = false, noPrune: Bool = false) async throws {
        try await removeImage(reference.description, force: force, noPrune: noPrune)
    }

    public func removeImage(_ id: ImageID, force: Bool = false, noPrune: Bool = false) async throws {
        try await removeImage(id.description, force: force, noPrune: noPrune)
    }

    /// The image as a `docker save` tar, streamed.
    public func exportImage(_ name: String) async throws -> ChunkSequence {
        try await call(EngineRequest("GET", "/images/\(URLEncoding.pathSegment(name))/get", timeoutSeconds: nil), as: "export").body
    }

    /// Several images in one `docker save` tar, streamed; layers they share appear once.
    public func exportImages(_ names: [String]) async throws -> ChunkSequence {
        try await call(EngineRequest("GET", "/images/get", query: names.map { ("names", $0) }, timeoutSeconds: nil), as: "export").body
    }

    /// Loads images from a `docker save` tar (`docker load`), keeping their IDs and diff IDs.
    public func loadImages(_ tar: ChunkSequence) async throws {
        let request = EngineRequest(
            "POST", "/images/load", query: [("quiet", "1")],
            body: .stream(tar, contentType: "application/x-tar", length: nil), timeoutSeconds: nil)
        try await expectCleanStream(try await call(request, as: "load"), request: request.summary)
    }

    /// Creates an image from a root file system tar (`docker import`).
    public func importImage(_ tar: ChunkSequence, repository: Repository, tag: Tag, changes: [String] = []) async throws {
        var query = [("fromSrc", "-"), ("repo", repository.description), ("tag", tag.value)]
        for change in changes { query.append(("changes", change)) }
        let request = EngineRequest(
            "POST", "/images/create", query: query,
            body: .stream(tar, contentType: "application/x-tar", length: nil), timeoutSeconds: nil)
        try await expectCleanStream(try await call(request, as: "import"), request: request.summary)
    }

    /// Pulls an image from its registry, by digest when the reference has one, else by tag
    /// (`latest` when it has neither); progress goes to `progress`.
    public func pull(
        _ reference: ImageReference, registryAuth: String? = nil, platform: String? = nil,
        progress: @Sendable (BuildMessage) -> Void = { _ in }
    ) async throws {
        var headers: [(String, String)] = []
        if let registryAuth { headers.append(("X-Registry-Auth", registryAuth)) }
        let tag = reference.digest?.description ?? reference.tag?.value ?? Tag.latest.value
        var query = [("fromImage", reference.repository.description), ("tag", tag)]
        if let platform { query.append(("platform", platform)) }
        let request = EngineRequest("POST", "/images/create", query: query, headers: headers, timeoutSeconds: nil)
        try await expectCleanStream(try await call(request, as: "pull"), request: request.summary, progress: progress)
    }

    /// Pushes `repository:tag`; `registryAuth` is the base64url JSON the `X-Registry-Auth` header takes.
    public func push(_ repository: Repository, tag: Tag, registryAuth: String, progress: @Sendable (BuildMessage) -> Void = { _ in }) async throws {
        let request = EngineRequest(
            "POST", "/images/\(URLEncoding.pathSegment(repository.description))/push", query: [("tag", tag.value)],
            headers: [("X-Registry-Auth", registryAuth)], timeoutSeconds: nil)
        try await expectCleanStream(try await call(request, as: "push"), request: request.summary, progress: progress)
    }

    /// Reads a JSON message stream and throws its error message, if it carries one.
    private func expectCleanStream(_ response: EngineResponse, request: String, progress: @Sendable (BuildMessage) -> Void = { _ in }) async throws {
        var decoder = JSONLineDecoder()
        for try await chunk in response.body {
            for message in decoder.feed(chunk) {
                if case .error(let text, _) = message { throw DockerEngineError.stream(request: request, message: text) }
                progress(message)
            }
        }
        for message in decoder.finish() {
            if case .error(let text, _) = message { throw DockerEngineError.stream(request: request, message: text) }
        }
    }
}
