import ContainerBasics
/// A Python or Node.js package a layer installs, pinned: `ruff==0.8.4`, `typescript@5.6.3`,
/// `@anthropic-ai/sdk@0.32.1`. Pins make the Dockerfile (and so the content hash) name exactly
/// what is installed, and hadolint asks for them (DL3013, DL3016). Only characters that are
/// plain words to a shell are accepted: the names are written unquoted into `RUN` lines.
public struct LanguagePackage: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let ecosystem: LanguageEcosystem
    /// As written: the name and its pin.
    public let value: String
    /// The name without the pin.
    public let name: String

    public init(parsing text: String, ecosystem: LanguageEcosystem) throws(ValueError) {
        self.ecosystem = ecosystem
        value = text
        func isWord(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || "._-".contains(c)) }
        switch ecosystem {
        case .pip:
            guard let pin = text.range(of: "==") else {
                throw .languagePackage("pip package '\(text)' is not pinned: write name==version (e.g. ruff==0.8.4), so the image says what it holds")
            }
            var package = text[..<pin.lowerBound]
            if let bracket = package.firstIndex(of: "[") {
                let extras = package[bracket...]
                guard extras.hasSuffix("]"), extras.dropFirst().dropLast().allSatisfy({ isWord($0) || $0 == "," }) else {
                    throw .languagePackage("pip package '\(text)': extras must be [name,name]")
                }
                package = package[..<bracket]
            }
            let version = text[pin.upperBound...]
            guard let first = package.first, first.isASCII, first.isLetter || first.isNumber, package.allSatisfy(isWord) else {
                throw .languagePackage("pip package name '\(package)' must be letters, digits, '.', '_' and '-'")
            }
            guard !version.isEmpty, version.allSatisfy({ isWord($0) || "+!".contains($0) }) else {
                throw .languagePackage("pip package '\(text)': the version after == must be letters, digits and . + ! _ -")
            }
            name = String(package)
        case .npm:
            let scoped = text.hasPrefix("@")
            let body = scoped ? text.dropFirst() : Substring(text)
            guard let at = body.lastIndex(of: "@") else {
                throw .languagePackage("npm package '\(text)' is not pinned: write name@version (e.g. typescript@5.6.3)")
            }
            let package = body[..<at]
            let version = body[body.index(after: at)...]
            let parts = package.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == (scoped ? 2 : 1),
                parts.allSatisfy({ part in
                    part.first.map { $0.isLowercase || $0.isNumber } == true && part.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || "._-".contains($0) }
                })
            else {
                throw .languagePackage("npm package name '\(scoped ? "@" : "")\(package)' must be lowercase letters, digits, '.', '_' and '-' (a scope is @scope/name)")
            }
            guard let first = version.first, first.isNumber, version.allSatisfy({ isWord($0) || $0 == "+" }) else {
                throw .languagePackage("npm package '\(text)': the version after @ must be an exact version (e.g. 5.6.3)")
            }
            name = (scoped ? "@" : "") + String(package)
        }
    }

    public var description: String { value }

    public static func < (lhs: LanguagePackage, rhs: LanguagePackage) -> Bool {
        lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8)
    }
}

/// What a language's packages need from the OS: the interpreter the installed tree runs on in
/// the image, and what the builder stage installs to install them.
package enum LanguageRuntime {
    package struct Needs {
        /// A package the layer or one below must install (nil: the base image has it).
        package var runtime: String?
        package var builder: [String]
    }

    package static func requirements(_ ecosystem: LanguageEcosystem, distro: Distro, rootImage: ImageReference) -> Needs? {
        // The official node images carry node and npm already.
        let nodeImage = rootImage.path.split(separator: "/").last == "node"
        switch (ecosystem, distro.packageManager) {
        case (.pip, .apt): return Needs(runtime: "python3", builder: ["python3", "python3-venv"])
        case (.pip, .apk): return Needs(runtime: "python3", builder: ["python3", "py3-pip"])
        case (.npm, .apt): return Needs(runtime: nodeImage ? nil : "nodejs", builder: nodeImage ? [] : ["nodejs", "npm"])
        case (.npm, .apk): return Needs(runtime: nodeImage ? nil : "nodejs", builder: nodeImage ? [] : ["nodejs", "npm"])
        case (_, .none): return nil
        }
    }
}
