import NIOCore
import PaymeshNoise

/// Fired inbound once the Noise handshake has completed and the peer's identity is proven.
public struct NoiseHandshakeCompleted: Sendable {
    public let peer: AuthenticatedPeer
}

/// Runs the Paymesh XX handshake on a TCP channel, then encrypts and decrypts transport
/// messages. All protocol logic lives in `PaymeshHandshake` and `TransportCipher` (sans-IO);
/// this handler only moves bytes and performs what they return.
///
/// Outbound plaintext is accumulated until `flush` and then sealed into as few Noise messages as
/// possible (each ≤ 65,519 bytes of plaintext), so many small yamux frames share one AEAD call
/// and one TCP write.
final class NoiseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking(PaymeshHandshake)
        case established(TransportCipher)
        case failed
    }

    private var state: State
    private var decoder = NoiseFrameDecoder()
    private var pendingPlaintext: ByteBuffer?
    private var pendingPromise: EventLoopPromise<Void>?
    private var timeout: Scheduled<Void>?
    private let handshakeTimeout: TimeAmount
    private let onFailure: @Sendable (TransportError) -> Void

    init(handshake: PaymeshHandshake, handshakeTimeout: TimeAmount,
         onFailure: @escaping @Sendable (TransportError) -> Void) {
        self.state = .handshaking(handshake)
        self.decoder.maximumMessageLength = handshake.maximumIncomingMessageLength
        self.handshakeTimeout = handshakeTimeout
        self.onFailure = onFailure
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard timeout == nil, case .handshaking(var hs) = state else { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(in: handshakeTimeout) {
            handler.value.fail(context: loopBound.value, TransportError(.handshakeTimeout))
        }
        do {
            if let first = try hs.start() {
                state = .handshaking(hs)
                writeHandshakeMessage(first, context: context)
            } else {
                state = .handshaking(hs)
            }
        } catch {
            fail(context: context, .wrap(error, as: .handshakeFailed))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.append(unwrapInboundIn(data))
        var plaintext: ByteBuffer?
        do {
            while let message = try decoder.nextMessage() {
                switch state {
                case .handshaking(var hs):
                    let output = try hs.receive(message)
                    if let reply = output.reply { writeHandshakeMessage(reply, context: context) }
                    if let session = output.established {
                        timeout?.cancel()
                        timeout = nil
                        state = .established(session.transport)
                        decoder.maximumMessageLength = NoiseLimits.maxMessageLength
                        context.fireUserInboundEventTriggered(NoiseHandshakeCompleted(peer: session.peer))
                        if pendingPlaintext != nil { sealPending(context: context) }
                    } else {
                        decoder.maximumMessageLength = hs.maximumIncomingMessageLength
                        state = .handshaking(hs)
                    }
                case .established(var cipher):
                    if plaintext == nil {
                        plaintext = context.channel.allocator.buffer(capacity: max(message.readableBytes, 1024))
                    }
                    _ = try cipher.decrypt(message, appendingTo: &plaintext!)
                    state = .established(cipher)
                case .failed:
                    return
                }
            }
        } catch {
            let kind: TransportError.Kind
            if case .handshaking = state { kind = .handshakeFailed } else { kind = .transportFailed }
            // Deliver what decrypted before the failure, then close.
            if let plaintext, plaintext.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(plaintext)) }
            fail(context: context, .wrap(error, as: kind))
            return
        }
        if let plaintext, plaintext.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(plaintext))
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .failed = state {
            promise?.fail(TransportError(.connectionClosed))
            return
        }
        var bytes = unwrapOutboundIn(data)
        if pendingPlaintext == nil {
            pendingPlaintext = bytes
        } else {
            pendingPlaintext!.writeBuffer(&bytes)
        }
        if let promise {
            if let pending = pendingPromise { pending.futureResult.cascade(to: promise) } else { pendingPromise = promise }
        }
    }

    func flush(context: ChannelHandlerContext) {
        guard case .established = state else { return } // sealed when the handshake completes
        sealPending(context: context)
    }

    /// Seals every pending plaintext byte into Noise transport messages and writes them.
    private func sealPending(context: ChannelHandlerContext) {
        guard case .established(var cipher) = state, var plaintext = pendingPlaintext else { return }
        pendingPlaintext = nil
        let promise = pendingPromise
        pendingPromise = nil
        let chunks = (plaintext.readableBytes + NoiseLimits.maxPlaintextLength - 1) / NoiseLimits.maxPlaintextLength
        var out = context.channel.allocator.buffer(
            capacity: plaintext.readableBytes + chunks * (NoiseFraming.lengthPrefixSize + NoiseLimits.tagLength))
        do {
            while plaintext.readableBytes > 0 {
                let n = min(plaintext.readableBytes, NoiseLimits.maxPlaintextLength)
                let chunk = plaintext.readSlice(length: n)!
                try cipher.encryptFrame(chunk, appendingTo: &out)
            }
        } catch {
            promise?.fail(error)
            fail(context: context, .wrap(error, as: .nonceExhausted))
            return
        }
        state = .established(cipher)
        context.writeAndFlush(wrapOutboundOut(out), promise: promise)
    }

    private func writeHandshakeMessage(_ message: [UInt8], context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: message.count + NoiseFraming.lengthPrefixSize)
        do {
            try NoiseFraming.writeFrame(message, into: &out)
        } catch {
            fail(context: context, .wrap(error, as: .handshakeFailed))
            return
        }
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, .wrap(error, as: .transportFailed))
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        timeout = nil
        if case .handshaking = state {
            state = .failed
            onFailure(TransportError(.handshakeFailed, "connection closed during the handshake"))
        }
        pendingPromise?.fail(TransportError(.connectionClosed))
        pendingPromise = nil
        context.fireChannelInactive()
    }

    private func fail(context: ChannelHandlerContext, _ error: TransportError) {
        if case .failed = state { return }
        state = .failed
        timeout?.cancel()
        timeout = nil
        pendingPromise?.fail(error)
        pendingPromise = nil
        pendingPlaintext = nil
        onFailure(error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }
}
