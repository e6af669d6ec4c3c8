import NIOCore

/// Stream bookkeeping shared by the inbound and local paths of `YamuxSession`.
extension YamuxSession {
    /// Runs `body` on a live stream taken out of the table (so it can be mutated in place
    /// together with the session), puts it back, frees it when fully closed, and flushes.
    mutating func withLiveStream(
        _ id: StreamID, _ body: (inout YamuxSession, inout YamuxStream) -> Void
    ) throws(MuxError) -> [Action] {
        guard !closed else { throw .sessionClosed() }
        guard let index = streams.index(forKey: id) else { throw .unknownStream(id) }
        var stream = YamuxStream.placeholder
        swap(&stream, &streams.values[index])
        body(&self, &stream)  // never adds or removes table entries, so `index` stays valid
        swap(&stream, &streams.values[index])
        if streams.values[index].isFullyClosed { removeStream(at: index) }
        return finish()
    }

    /// An inbound stream leaves the unacknowledged backlog; its ACK rides on the next frame.
    mutating func markAccepted(_ s: inout YamuxStream) {
        s.opening = .ackPending
        inboundBacklog -= 1
    }

    /// Flags (SYN or ACK) owed by the stream's next frame. When a larger receive window must be
    /// announced too, writes them on a WindowUpdate carrying it and returns [].
    mutating func takeOpening(_ s: inout YamuxStream, _ id: StreamID) -> YamuxFrame.Flags {
        var delta = extraWindow
        let flags: YamuxFrame.Flags
        switch s.opening {
        case .synPending:
            flushSyns(below: UInt64(id.rawValue))  // peers require increasing ids
            if pendingSyns.first == id { pendingSyns.removeFirst() }
            s.opening = .synSent
            flags = .syn
        case .ackPending:
            s.opening = .established
            flags = .ack
            delta += s.pendingCredit
            s.pendingCredit = 0
        case .synSent, .synReceived, .established:
            return []
        }
        guard delta > 0 else { return flags }
        s.receiveWindow += delta
        YamuxFrame.writeHeader(type: .windowUpdate, flags: flags, streamID: id, length: delta, into: &outbound)
        return []
    }

    /// Writes SYN WindowUpdates for outbound streams below `limit` that have not sent one.
    mutating func flushSyns(below limit: UInt64) {
        while let first = pendingSyns.first, UInt64(first.rawValue) < limit {
            pendingSyns.removeFirst()
            guard let i = streams.index(forKey: first), streams.values[i].opening == .synPending else { continue }
            streams.values[i].opening = .synSent
            streams.values[i].receiveWindow += extraWindow
            YamuxFrame.writeHeader(type: .windowUpdate, flags: .syn, streamID: first, length: extraWindow, into: &outbound)
        }
    }

    /// Sends queued data within the send window, then a pending FIN once the queue is empty.
    mutating func pump(_ s: inout YamuxStream, _ id: StreamID) {
        while s.queuedBytes > 0, s.sendWindow > 0 {
            let head = s.sendQueue.startIndex
            let n = min(s.sendQueue[head].readableBytes, Int(s.sendWindow), configuration.maxOutboundDataFrame)
            var piece = s.sendQueue[head].readSlice(length: n)!
            if s.sendQueue[head].readableBytes == 0 { s.sendQueue.removeFirst() }
            s.queuedBytes -= n
            totalQueuedBytes -= n
            s.sendWindow -= UInt32(n)
            var flags = takeOpening(&s, id)
            if s.queuedBytes == 0, s.localEnd == .finPending {
                flags.insert(.fin)
                s.localEnd = .finSent
            }
            outbound.reserveCapacity(minimumWritableBytes: YamuxFrame.headerLength + n)
            YamuxFrame.writeHeader(type: .data, flags: flags, streamID: id, length: UInt32(n), into: &outbound)
            outbound.writeBuffer(&piece)
        }
        guard s.queuedBytes == 0 else { return }
        if s.localEnd == .finPending {
            let flags = takeOpening(&s, id).union(.fin)
            YamuxFrame.writeHeader(type: .data, flags: flags, streamID: id, length: 0, into: &outbound)
            s.localEnd = .finSent
        }
        if s.writerBlocked {
            s.writerBlocked = false
            actions.append(.streamWritable(id))
        }
    }

    /// Frees a stream's state and reports `.streamClosed`.
    mutating func removeStream(at index: Dictionary<StreamID, YamuxStream>.Index) {
        let (id, s) = streams[index]
        switch s.opening {
        case .synPending, .synSent: outboundUnacked -= 1
        case .synReceived: inboundBacklog -= 1
        case .ackPending, .established: break
        }
        totalQueuedBytes -= s.queuedBytes
        streams.remove(at: index)
        actions.append(.streamClosed(id))
    }

    /// A connection-level error: GoAway(protocol error) for peer violations, then close.
    mutating func fail(_ error: MuxError) {
        guard !closed else { return }
        if error.isProtocolViolation {
            YamuxFrame.writeHeader(type: .goAway, flags: [], streamID: .session,
                                   length: GoAwayCode.protocolError.rawValue, into: &outbound)
        } else if error.isSendQueueFull {
            YamuxFrame.writeHeader(type: .goAway, flags: [], streamID: .session,
                                   length: GoAwayCode.internalError.rawValue, into: &outbound)
        }
        closed = true
        closeReason = error
    }

    /// Ends every public call: pending SYNs, one coalesced `.send`, then a close if due.
    mutating func finish() -> [Action] {
        if !closed { flushSyns(below: UInt64.max) }
        var result: [Action] = []
        swap(&result, &actions)
        if outbound.readableBytes > 0 {
            result.append(.send(outbound))
            outbound = ByteBuffer()
        }
        if closed, !closeReported {
            closeReported = true
            streams.removeAll()
            pendingSyns.removeAll()
            pings.removeAll()
            inboundBacklog = 0
            outboundUnacked = 0
            totalQueuedBytes = 0
            decoder = YamuxFrameDecoder(maxDataLength: configuration.maxDataFrameLength)
            result.append(.closeConnection(closeReason))
        }
        return result
    }
}
