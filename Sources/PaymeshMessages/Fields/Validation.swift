/// Throws MALFORMED_MESSAGE for `type` unless `condition` holds.
@inline(__always)
func require(_ condition: Bool, _ type: MessageType, _ why: @autoclosure () -> String) throws(MessageError) {
    if !condition { throw .malformed("\(type.name): \(why())", refType: type.rawValue) }
}

extension ClosedRange where Bound == Int {
    func containsLength(of s: String) -> Bool { contains(s.utf8.count) }
}
