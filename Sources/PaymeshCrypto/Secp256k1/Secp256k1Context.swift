internal import CSecp256k1

/// Owns the one libsecp256k1 context of the process. It is created and randomised (blinding
/// against side channels) once, then only passed as `const` to signing, verification and
/// recovery, which libsecp256k1 allows from many threads at once.
final class Secp256k1Context: @unchecked Sendable {
    static let shared = Secp256k1Context()

    let pointer: OpaquePointer

    private init() {
        guard let context = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
            preconditionFailure("secp256k1_context_create returned NULL")
        }
        var seed = SecureRandom.bytes(32)
        defer { seed.withUnsafeMutableBytes { secureZero($0) } }
        guard secp256k1_context_randomize(context, seed) == 1 else {
            preconditionFailure("secp256k1_context_randomize failed")
        }
        pointer = context
    }

    deinit { secp256k1_context_destroy(pointer) }
}
