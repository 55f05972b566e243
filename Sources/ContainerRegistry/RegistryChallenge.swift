import ContainerBasics
import Foundation

extension RegistryClient {
    /// A `WWW-Authenticate` value: its scheme (lowercased) and its `key="value"` parameters.
    struct Challenge: Equatable {
        var scheme: String
        var parameters: [String: String]

        init?(parsing text: String) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard let space = trimmed.firstIndex(of: " ") ?? (trimmed.isEmpty ? nil : trimmed.endIndex) else { return nil }
            scheme = trimmed[..<space].lowercased()
            parameters = [:]
            var rest = Substring(trimmed[space...])
            while true {
                rest = rest.drop { $0 == " " || $0 == "," }
                guard let equals = rest.firstIndex(of: "=") else { break }
                let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
                rest = rest[rest.index(after: equals)...]
                let value: String
                if let quoted = QuotedString.read(&rest) {
                    value = quoted
                } else {
                    let end = rest.firstIndex(of: ",") ?? rest.endIndex
                    value = rest[..<end].trimmingCharacters(in: .whitespaces)
                    rest = rest[end...]
                }
                parameters[key] = value
            }
        }
    }
}
