internal import CAvahi

/// Small conversions between Avahi's C types and Swift values.
enum AvahiSupport {
    /// `avahi_strerror` text for an Avahi error code.
    static func message(_ code: Int32) -> String {
        guard let text = avahi_strerror(code) else { return "Avahi error \(code)" }
        return String(cString: text)
    }

    /// The strings of an `AvahiStringList`, in list order, as raw bytes.
    static func strings(of list: UnsafeMutablePointer<AvahiStringList>?) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var node = list
        while let current = node {
            let size = avahi_string_list_get_size(current)
            if let text = avahi_string_list_get_text(current) {
                result.append(Array(UnsafeBufferPointer(start: text, count: size)))
            }
            node = avahi_string_list_get_next(current)
        }
        return result
    }

    /// Builds an `AvahiStringList` holding `strings` in order; the caller frees it with
    /// `avahi_string_list_free`. Nil for an empty record (Avahi publishes that as one empty string).
    static func makeStringList(_ strings: [[UInt8]]) -> UnsafeMutablePointer<AvahiStringList>? {
        var list: UnsafeMutablePointer<AvahiStringList>?
        for bytes in strings.reversed() {  // avahi_string_list_add_* prepends
            list = bytes.withUnsafeBufferPointer { avahi_string_list_add_arbitrary(list, $0.baseAddress, $0.count) }
        }
        return list
    }

    /// An `AvahiAddress` in text (dotted decimal for IPv4).
    static func text(of address: UnsafePointer<AvahiAddress>) -> String {
        var buffer = [CChar](repeating: 0, count: 64)  // AVAHI_ADDRESS_STR_MAX is 40
        guard avahi_address_snprint(&buffer, buffer.count, address) != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }
}
