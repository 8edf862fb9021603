import Foundation

/// An sRGB colour with components in [0, 1].
public struct RGBColor: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var red: Double
    public var green: Double
    public var blue: Double

    public init(red: Double, green: Double, blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// From a packed 0xRRGGBB value, e.g. `RGBColor(hex: 0x0072B2)`.
    public init(hex: UInt32) {
        self.init(red: Double((hex >> 16) & 0xFF) / 255, green: Double((hex >> 8) & 0xFF) / 255,
                  blue: Double(hex & 0xFF) / 255)
    }

    /// Packed 0xRRGGBB, each channel rounded to 8 bits.
    public var hex: UInt32 {
        func channel(_ value: Double) -> UInt32 { UInt32((min(max(value, 0), 1) * 255).rounded()) }
        return channel(red) << 16 | channel(green) << 8 | channel(blue)
    }

    /// CSS notation, `#rrggbb`.
    public var description: String {
        let digits = String(hex, radix: 16)
        return "#" + String(repeating: "0", count: 6 - digits.count) + digits
    }

    /// Relative luminance (ITU-R BT.709 weights on linearised sRGB), 0 for black and 1 for white.
    public var luminance: Double {
        func linear(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
        return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    }

    /// Linear interpolation in sRGB: `t = 0` gives `self`, `t = 1` gives `other`.
    public func mixed(with other: RGBColor, _ t: Double) -> RGBColor {
        RGBColor(red: red + (other.red - red) * t, green: green + (other.green - green) * t,
                 blue: blue + (other.blue - blue) * t)
    }

    public static let white = RGBColor(hex: 0xFFFFFF)
    public static let black = RGBColor(hex: 0x000000)
    /// Text and axis colour: near-black, softer than pure black.
    public static let text = RGBColor(hex: 0x222222)
    static let axis = RGBColor(hex: 0x444444)
    static let grid = RGBColor(hex: 0xE3E3E3)
    static let mutedText = RGBColor(hex: 0x555555)
}

