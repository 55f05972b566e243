// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "imagegen",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "imagegen", targets: ["imagegen"]),
        .library(name: "ImageGen", targets: ["ImageGen", "ImageGenValues", "BuildContext", "Recipes", "Planning", "LayerInspection", "Inventory", "RegistryCache"]),
        .library(name: "DockerEngine", targets: ["DockerEngine"]),
        .library(name: "ContainerRegistry", targets: ["ContainerRegistry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CArchive",
            pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]
        ),
        .target(name: "CSystemShims"),
        .target(name: "CByteScan"),
        // Identifiers (content hashes, digests, tags, repositories, image references), canonical
        // JSON and subprocesses: what the engine client, the registry client and imagegen share.
        .target(name: "ContainerBasics", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "ContainerRegistry",
            dependencies: [
                "ContainerBasics",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "DockerEngine",
            dependencies: [
                "ContainerBasics",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // imagegen, by pipeline stage: each target may use the ones listed before it (the
        // compiler refuses a back edge; ArchitectureTests keeps this order).
        // Values, names, diagnostics, secrets and the YAML reader every stage shares.
        .target(
            name: "ImageGenValues",
            dependencies: ["ContainerBasics", "CByteScan", .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Build contexts: tar reading and writing, directory walks, .dockerignore, file digests,
        // the FEAT-026 context manifest and pinned repositories.
        .target(
            name: "BuildContext",
            dependencies: ["ImageGenValues", "ContainerBasics", "CArchive", "CSystemShims", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Recipes: the model, loader and resolver, their instructions and Dockerfiles, and import.
        .target(name: "Recipes", dependencies: ["ImageGenValues", "BuildContext", "ContainerBasics", .product(name: "Yams", package: "Yams")]),
        // Content hashes, the build plan, generated/.
        .target(name: "Planning", dependencies: ["Recipes", "BuildContext", "ImageGenValues", "ContainerBasics"]),
        // Reading image layers (the engine's export, its storage, a helper container) into indexes.
        .target(name: "LayerInspection", dependencies: ["BuildContext", "ImageGenValues", "ContainerBasics", "DockerEngine"]),
        // What an image holds and how it changed: package inventories, SBOMs (SPDX, CycloneDX), diffs.
        .target(name: "Inventory", dependencies: ["LayerInspection", "ImageGenValues", "ContainerBasics"]),
        // The registry as the content-hash cache: cached layers and shared layer indexes.
        .target(name: "RegistryCache", dependencies: ["Planning", "LayerInspection", "ImageGenValues", "ContainerBasics", "ContainerRegistry", "DockerEngine"]),
        // The stages that talk to engines and registries: engine state, build, verify, release.
        .target(
            name: "ImageGen",
            dependencies: [
                "ImageGenValues", "BuildContext", "Recipes", "Planning", "LayerInspection", "Inventory", "RegistryCache",
                "ContainerBasics", "ContainerRegistry", "DockerEngine", "CSystemShims",
            ]
        ),
        .target(
            name: "ImageGenCLI",
            dependencies: [
                "ImageGen",
                "Inventory",
                "ContainerRegistry",
                "CSystemShims",
                "DockerEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "imagegen", dependencies: ["ImageGenCLI"]),
        .target(name: "CPseudoTerminal", path: "Tests/CPseudoTerminal"),
        .target(name: "TestSupport", dependencies: ["CPseudoTerminal"], path: "Tests/TestSupport"),
        // Helpers the recipe tests of every tier share: sample recipes, planning, diagnostics, git repositories.
        .target(
            name: "RecipeTestSupport",
            dependencies: ["TestSupport", "ContainerBasics", "ImageGenValues", "BuildContext", "Recipes", "Planning", "LayerInspection", "Inventory"],
            path: "Tests/RecipeTestSupport"
        ),
        // Three tiers. Unit (hermetic: no engine, no program but imagegen itself, no sleeps):
        // DockerEngineTests, ContainerRegistryTests, ImageGenTests. Tools: the programs the
        // tests compare with or lint with (git, python3, hadolint, check-jsonschema, zizmor).
        // Integration: a real engine and a real registry.
        .testTarget(name: "DockerEngineTests", dependencies: ["DockerEngine", "ContainerBasics", "TestSupport"]),
        .testTarget(name: "ContainerRegistryTests", dependencies: ["ContainerRegistry", "ContainerBasics", "TestSupport"]),
        .testTarget(
            name: "ImageGenTests",
            dependencies: [
                "ImageGen", "ImageGenValues", "BuildContext", "Recipes", "Planning", "LayerInspection", "Inventory", "RegistryCache", "ImageGenCLI", "DockerEngine",
                "ContainerRegistry", "TestSupport", "RecipeTestSupport", "imagegen", "CByteScan",
            ]
        ),
        .testTarget(
            name: "ToolTests",
            dependencies: [
                "ImageGen", "ImageGenValues", "BuildContext", "Recipes", "Planning", "LayerInspection", "Inventory", "RegistryCache",
                "TestSupport", "RecipeTestSupport", "imagegen", .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ImageGen", "ImageGenValues", "BuildContext", "Recipes", "Planning", "LayerInspection", "Inventory", "RegistryCache", "ImageGenCLI", "DockerEngine",
                "ContainerRegistry", "TestSupport", "RecipeTestSupport", "imagegen", .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
