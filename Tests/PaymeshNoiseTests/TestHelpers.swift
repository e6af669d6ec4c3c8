import Foundation
import NIOCore
import PaymeshCrypto
import PaymeshNoise

func hex(_ s: String) -> [UInt8] {
    guard let b = [UInt8](hex: s) else { preconditionFailure("bad hex in test: \(s)") }
    return b
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

extension ByteBuffer {
    var allBytes: [UInt8] { getBytes(at: readerIndex, length: readableBytes) ?? [] }
}

/// Both ends of a completed handshake.
struct Pair {
    var initiator: HandshakeResult
    var responder: HandshakeResult
}

/// Runs `pattern` to completion with fresh random keys, checking every payload on the way.
func handshake(_ pattern: HandshakePattern = .xx, prologue: [UInt8] = bytes("paymesh/1"),
               initiatorTransport: TransportCipher.Configuration = .paymesh,
               responderTransport: TransportCipher.Configuration = .paymesh) throws -> Pair {
    let iStatic = X25519.PrivateKey()
    let rStatic = X25519.PrivateKey()
    var i = try HandshakeState(pattern: pattern, role: .initiator, prologue: prologue, localStatic: iStatic,
                               remoteStatic: rStatic.publicKey, transport: initiatorTransport)
    var r = try HandshakeState(pattern: pattern, role: .responder, prologue: prologue, localStatic: rStatic,
                               remoteStatic: iStatic.publicKey, transport: responderTransport)
    var turn = 0
    while !(i.isComplete && r.isComplete) {
        let payload = bytes("payload \(turn)")
        if turn % 2 == 0 {
            let m = try i.writeMessage(payload)
            guard try r.readMessage(m) == payload else { throw NoiseError.decryptFailed() }
        } else {
            let m = try r.writeMessage(payload)
            guard try i.readMessage(m) == payload else { throw NoiseError.decryptFailed() }
        }
        turn += 1
    }
    return Pair(initiator: try i.result(), responder: try r.result())
}
