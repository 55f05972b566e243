import ContainerBasics

/// Copying a blob between repositories or registries a chunk at a time, so that no layer is ever
/// held whole in memory (a layer of a sandbox image is hundreds of MiB).
extension RegistryClient {
    /// Bytes a copy holds at once.
    public static let copyChunk = 16 << 20

    /// The size of blob `digest` of `repository` (a HEAD), or nil when the registry does not have it.
    public func blobSize(repository raw: String, digest: Digest) async throws -> Int64? {
        let repository = repositoryPath(raw)
        let response = try await exchange("HEAD", baseURL + "/v2/\(repository)/blobs/\(digest)", headers: [], scope: "repository:\(repository):pull", limit: 0)
        switch response.status {
        case 200:
            guard let length = response.header("content-length").flatMap({ Int64($0) }) else {
                throw RegistryError.unexpected(registry: host, what: "blob \(digest) of \(repository)", reason: "its size is not stated")
            }
            return length
        case 404: return nil
        default: throw failure(response, what: "blob \(digest) of \(repository)")
        }
    }

    /// Bytes `range` of blob `digest` of `repository` (its path here): a ranged GET.
    func blobBytes(_ repository: String, digest: Digest, range: Range<Int64>) async throws -> [UInt8] {
        let response = try await exchange(
            "GET", baseURL + "/v2/\(repository)/blobs/\(digest)", headers: [("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")],
            scope: "repository:\(repository):pull", limit: range.count)
        // A registry that ignores Range answers 200 with the whole blob: fine when that is the range.
        guard response.status == 206 || (response.status == 200 && range.lowerBound == 0), response.body.count == range.count else {
            throw response.status >= 400
                ? failure(response, what: "blob \(digest) of \(repository)")
                : RegistryError.unexpected(
                    registry: host, what: "blob \(digest) of \(repository)", reason: "bytes \(range.lowerBound)-\(range.upperBound - 1) were not answered as asked")
        }
        return response.body
    }

    /// Copies blob `digest` of `sourceRepository` on `source` (this registry or another) into
    /// `repository` here, `chunk` bytes at a time: ranged GETs there, a chunked upload here. The
    /// registry checks the digest of what it was sent before it keeps the blob.
    public func copyBlob(
        _ digest: Digest, from source: RegistryClient, repository sourceRepository: String, into raw: String, chunk: Int = copyChunk
    )
        async throws
    {
        let repository = repositoryPath(raw), from = source.repositoryPath(sourceRepository)
        let scope = "repository:\(repository):pull,push"
        if try await hasBlob(repository, digest, scope: scope) { return }
        guard let size = try await source.blobSize(repository: from, digest: digest) else {
            throw RegistryError.unexpected(registry: source.host, what: "blob \(digest) of \(from)", reason: "it is not there to copy")
        }
        let start = try await exchange("POST", baseURL + "/v2/\(repository)/blobs/uploads/", headers: [("Content-Length", "0")], body: [], scope: scope, limit: 1 << 16)
        guard start.status == 202, let location = start.header("location") else { throw failure(start, what: "an upload to \(repository)") }
        var upload = Self.resolve(location, against: baseURL + "/v2/")
        var offset: Int64 = 0
        while offset < size {
            let end = min(offset + Int64(max(chunk, 1)), size)
            let bytes = try await source.blobBytes(from, digest: digest, range: offset..<end)
            let patch = try await exchange(
                "PATCH", upload,
                headers: [("Content-Type", "application/octet-stream"), ("Content-Range", "\(offset)-\(end - 1)"), ("Content-Length", String(bytes.count))],
                body: bytes, scope: scope, limit: 1 << 16)
            guard patch.status == 202, let next = patch.header("location") else { throw failure(patch, what: "uploading blob \(digest) to \(repository)") }
            upload = Self.resolve(next, against: upload)
            offset = end
        }
        let url = upload + (upload.contains("?") ? "&" : "?") + URLEncoding.query([("digest", digest.description)])
        let put = try await exchange("PUT", url, headers: [("Content-Length", "0")], body: [], scope: scope, limit: 1 << 16)
        guard put.status == 201 || put.status == 204 else { throw failure(put, what: "blob \(digest) of \(repository)") }
    }
}
