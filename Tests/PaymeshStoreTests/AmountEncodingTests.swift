import PaymeshMessages
import Testing
@testable import PaymeshStore

@Suite struct AmountEncodingTests {
    @Test func roundTripsExtremes() throws {
        for value: UInt128 in [0, 1, 255, 256, UInt128(UInt64.max), UInt128(UInt64.max) + 1, .max] {
            let bytes = AmountEncoding.encode(value)
            #expect(bytes.count == 16)
            #expect(try AmountEncoding.decode(bytes, "test").atomicUnits == value)
        }
        #expect(AmountEncoding.encode(UInt128.max) == [UInt8](repeating: 0xFF, count: 16))
        #expect(AmountEncoding.encode(1) == [UInt8](repeating: 0, count: 15) + [1])
    }

    @Test func byteOrderIsNumericOrder() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let shiftA = UInt128(rng.next(upperBound: UInt64(128)))
            let shiftB = UInt128(rng.next(upperBound: UInt64(128)))
            let a = UInt128(rng.next()) << shiftA
            let b = UInt128(rng.next()) << shiftB
            let ea = AmountEncoding.encode(a), eb = AmountEncoding.encode(b)
            #expect(ea.lexicographicallyPrecedes(eb) == (a < b))
        }
    }

    @Test func rejectsWrongWidth() {
        #expect(throws: StoreError.self) { try AmountEncoding.decode([1, 2, 3], "x") }
        #expect(throws: StoreError.self) { try AmountEncoding.decode(nil, "x") }
    }
}
