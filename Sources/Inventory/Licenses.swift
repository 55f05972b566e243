import Foundation

/// What a package states as its license, as an SPDX license expression where every part is a
/// known SPDX identifier (Debian's short names and Python's classifiers mapped to them), else
/// nothing: the SBOM then keeps the statement as written (a `LicenseRef-` in SPDX, a name in
/// CycloneDX), never a guess.
public enum Licenses {
    /// The SPDX expression for `stated`, or nil.
    public static func spdxExpression(_ stated: String) -> String? {
        let trimmed = stated.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        if let whole = aliases[trimmed.lowercased()] { return whole }
        // Tokens: identifiers, parentheses, and the operators (any case; Debian writes "or", "and").
        var tokens: [String] = []
        var word = ""
        func flush() {
            if !word.isEmpty { tokens.append(word) }
            word = ""
        }
        for character in trimmed {
            if character == "(" || character == ")" {
                flush()
                tokens.append(String(character))
            } else if character == " " || character == "\t" || character == "," {
                flush()
            } else {
                word.append(character)
            }
        }
        flush()
        var output: [String] = []
        var expectOperand = true
        var depth = 0
        for token in tokens {
            switch token.uppercased() {
            case "(":
                guard expectOperand else { return nil }
                depth += 1
                output.append("(")
            case ")":
                guard !expectOperand, depth > 0 else { return nil }
                depth -= 1
                output.append(")")
            case "AND", "OR", "WITH":
                guard !expectOperand else { return nil }
                output.append(token.uppercased())
                expectOperand = true
            default:
                guard expectOperand else { return nil }
                if output.last == "WITH" {
                    guard let exception = exceptions[token.lowercased()] else { return nil }
                    output.append(exception)
                } else {
                    guard let id = identifier(token) else { return nil }
                    output.append(id)
                }
                expectOperand = false
            }
        }
        guard !expectOperand, depth == 0, !output.isEmpty else { return nil }
        return output.joined(separator: " ").replacingOccurrences(of: "( ", with: "(").replacingOccurrences(of: " )", with: ")")
    }

    /// A single identifier: an SPDX one (any case), or a Debian or common spelling of one.
    static func identifier(_ token: String) -> String? {
        let lowered = token.lowercased()
        if let known = byLowercase[lowered] { return known }
        if let alias = aliases[lowered] { return alias }
        if lowered.hasSuffix("+"), let base = aliases[String(lowered.dropLast())] ?? byLowercase[String(lowered.dropLast())] {
            if base.hasSuffix("-only") { return base.replacingOccurrences(of: "-only", with: "-or-later") }
            return byLowercase[base.lowercased() + "+"]
        }
        return nil
    }

    /// SPDX license identifiers (spdx.org/licenses) that packages of Debian, Alpine, PyPI and npm
    /// commonly state.
    static let identifiers: [String] = [
        "0BSD", "AFL-2.1", "AFL-3.0", "AGPL-3.0-only", "AGPL-3.0-or-later", "Apache-1.1", "Apache-2.0", "APSL-2.0", "Artistic-1.0",
        "Artistic-1.0-Perl", "Artistic-2.0", "Beerware", "BlueOak-1.0.0", "BSD-1-Clause", "BSD-2-Clause", "BSD-2-Clause-Patent",
        "BSD-3-Clause", "BSD-3-Clause-Clear", "BSD-4-Clause", "BSD-Source-Code", "BSL-1.0", "bzip2-1.0.6", "CC-BY-3.0", "CC-BY-4.0",
        "CC-BY-SA-3.0", "CC-BY-SA-4.0", "CC0-1.0", "CDDL-1.0", "CDDL-1.1", "CPL-1.0", "curl", "ECL-2.0", "EPL-1.0", "EPL-2.0", "EUPL-1.2",
        "FSFAP", "FSFUL", "FSFULLR", "FTL", "GFDL-1.2-only", "GFDL-1.2-or-later", "GFDL-1.3-only", "GFDL-1.3-or-later", "GPL-1.0-only",
        "GPL-1.0-or-later", "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later", "HPND", "ICU", "IJG", "Info-ZIP", "ISC",
        "JSON", "LGPL-2.0-only", "LGPL-2.0-or-later", "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later", "Libpng",
        "libpng-2.0", "libtiff", "LPPL-1.3c", "MIT", "MIT-0", "MIT-CMU", "MPL-1.1", "MPL-2.0", "MPL-2.0-no-copyleft-exception", "MS-PL",
        "NCSA", "NTP", "OFL-1.1", "OLDAP-2.8", "OpenSSL", "PHP-3.01", "PostgreSQL", "PSF-2.0", "Python-2.0", "Python-2.0.1", "Ruby",
        "Sleepycat", "TCL", "Unicode-3.0", "Unicode-DFS-2016", "Unlicense", "UPL-1.0", "Vim", "W3C", "WTFPL", "X11", "Zlib", "ZPL-2.1",
    ]

    static let byLowercase: [String: String] = Dictionary(uniqueKeysWithValues: identifiers.map { ($0.lowercased(), $0) })

    /// Debian's short names (DEP-5), deprecated SPDX spellings and Python classifiers.
    static let aliases: [String: String] = [
        "gpl-1": "GPL-1.0-only", "gpl-2": "GPL-2.0-only", "gpl-3": "GPL-3.0-only", "gpl-2.0": "GPL-2.0-only", "gpl-3.0": "GPL-3.0-only",
        "gpl-2.0+": "GPL-2.0-or-later", "gpl-3.0+": "GPL-3.0-or-later", "gpl-1+": "GPL-1.0-or-later",
        "lgpl-2": "LGPL-2.0-only", "lgpl-2.0": "LGPL-2.0-only", "lgpl-2.1": "LGPL-2.1-only", "lgpl-3": "LGPL-3.0-only", "lgpl-3.0": "LGPL-3.0-only",
        "lgpl-2.1+": "LGPL-2.1-or-later", "lgpl-3.0+": "LGPL-3.0-or-later", "lgpl-2.0+": "LGPL-2.0-or-later",
        "agpl-3": "AGPL-3.0-only", "agpl-3.0": "AGPL-3.0-only", "gfdl-1.2": "GFDL-1.2-only", "gfdl-1.3": "GFDL-1.3-only",
        "expat": "MIT", "mit license": "MIT", "the mit license": "MIT", "mit/expat": "MIT", "bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause",
        "bsd-4-clause": "BSD-4-Clause", "artistic": "Artistic-1.0-Perl", "psf-2": "PSF-2.0", "psf": "PSF-2.0", "python": "Python-2.0",
        "zlib/libpng": "Zlib", "apache-2": "Apache-2.0", "apache 2.0": "Apache-2.0", "apache license 2.0": "Apache-2.0",
        "apache license, version 2.0": "Apache-2.0", "apache software license 2.0": "Apache-2.0", "mpl-2": "MPL-2.0",
        "isc license": "ISC", "isc license (iscl)": "ISC", "python software foundation license": "PSF-2.0",
        "the unlicense (unlicense)": "Unlicense", "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0",
        "gnu general public license v2 (gplv2)": "GPL-2.0-only", "gnu general public license v3 (gplv3)": "GPL-3.0-only",
        "gnu general public license v2 or later (gplv2+)": "GPL-2.0-or-later", "gnu general public license v3 or later (gplv3+)": "GPL-3.0-or-later",
        "gnu lesser general public license v2 or later (lgplv2+)": "LGPL-2.0-or-later",
        "gnu lesser general public license v3 (lgplv3)": "LGPL-3.0-only", "gnu library or lesser general public license (lgpl)": "LGPL-2.0-or-later",
        "bsd-2-clause license": "BSD-2-Clause", "bsd 3-clause": "BSD-3-Clause", "new bsd license": "BSD-3-Clause", "simplified bsd license": "BSD-2-Clause",
        "x11": "X11", "cc0": "CC0-1.0", "cc0 1.0 universal (cc0 1.0) public domain dedication": "CC0-1.0", "boost software license 1.0 (bsl-1.0)": "BSL-1.0",
    ]

    /// Exceptions after WITH (spdx.org/licenses/exceptions-index.html).
    static let exceptions: [String: String] = [
        "classpath-exception-2.0": "Classpath-exception-2.0", "gcc-exception-3.1": "GCC-exception-3.1", "llvm-exception": "LLVM-exception",
        "openssl-exception": "OpenSSL-exception", "autoconf-exception-3.0": "Autoconf-exception-3.0", "bison-exception-2.2": "Bison-exception-2.2",
    ]
}
