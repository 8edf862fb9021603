import ArgumentParser
import Foundation

/// List-valued options take their values separated by spaces, commas or both: `--seeds 1 2 3`, `--seeds 1,2,3`,
/// `--channels 16,16,32` and `--channels 16 16 32` mean the same. ArgumentParser collects the words up to the next
/// option (`parsing: .upToNextOption`); each word is split at commas here into a list, and the option keeps the
/// lists of its words, read joined (`joined()`).
enum ListSyntax {
    /// How every list option's help says it is written.
    static let note = "separated by spaces or commas"

    /// One word of a list option split at commas, each part read by `parse`; `option` names the option in errors,
    /// `expected` what a value is and `examples` two of them.
    static func items<Element>(_ word: String, option: String, expected: String, examples: [String],
                               _ parse: (String) throws -> Element?) throws -> [Element] {
        let parts = word.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let usage = "values \(note), e.g. \(option) \(examples.joined(separator: " ")) or \(option) \(examples.joined(separator: ","))"
        guard !parts.isEmpty else { throw ValidationError("\(option) needs \(usage) (got '\(word)')") }
        return try parts.map { part in
            guard let value = try parse(part) else { throw ValidationError("\(option): '\(part)' is not \(expected) (\(usage))") }
            return value
        }
    }

    /// `items` for a value type the tool reads from a word (numbers, method and noise names ...).
    static func items<Element: ExpressibleByArgument>(_ word: String, option: String) throws -> [Element] {
        let names = Element.allValueStrings
        guard names.isEmpty else {
            // A named value: the fault is the name, not the list's syntax, so the message suggests the nearest name.
            return try items(word, option: option, expected: "one of \(names.joined(separator: ", "))", examples: Array(names.prefix(2))) { part in
                if let value = Element(argument: part) { return value }
                let nearest = names.min { editDistance(part, $0) < editDistance(part, $1) }
                let suggestion = nearest.flatMap { editDistance(part, $0) <= Swift.max(2, part.count / 3) ? ": did you mean '\($0)'?" : nil }
                throw ValidationError("\(option): '\(part)' is not one of \(names.joined(separator: ", "))\(suggestion ?? "")")
            }
        }
        let number = Element.self is any UnsignedInteger.Type ? "a whole number of 0 or more"
            : Element.self is any BinaryInteger.Type ? "a whole number" : "a number"
        return try items(word, option: option, expected: number, examples: ["1", "2"], Element.init(argument:))
    }

    /// Levenshtein distance: the fewest insertions, deletions and substitutions that turn `a` into `b` (any case).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + [Int](repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// Refuses a list that names a value twice: a repeated seed or noise would count one run as two (a std of 0 and
    /// paired "verdicts" from one seed), a repeated test-noise fraction one test set as two.
    static func requireDistinct<Element: Hashable>(_ values: [Element], option: String, describe: (Element) -> String = { "\($0)" }) throws {
        var seen = Set<Element>()
        let repeated = values.filter { !seen.insert($0).inserted }
        guard let first = repeated.first else { return }
        throw ValidationError("\(option) names \(describe(first)) more than once: give each value once (got \(values.map(describe).joined(separator: " ")))")
    }
}
