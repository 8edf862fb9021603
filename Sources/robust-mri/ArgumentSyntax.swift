import ArgumentParser
import Foundation

/// Two rules of the command line that ArgumentParser leaves open, applied to the raw arguments before parsing, for
/// every subcommand at once (the options each takes come from the parser's own description of it, `_dumpHelp()`):
///
/// - A negative number after an option is its value: `--epochs -1` reads as `--epochs=-1`, and so is refused by the
///   option's own check ("--epochs must be at least 1") instead of "Missing value for '--epochs'" (the parser takes a
///   leading dash for an option). In a list, `--test-noise-fraction 0 -1` reads as `--test-noise-fraction 0
///   --test-noise-fraction=-1`: a list option named again adds to its values.
/// - An option of one value named twice (`--epochs 1 --epochs 2`) is refused, naming it: the parser kept the last
///   silently. Lists (`--seeds`, `--channels`, ...) take several values, named once or again; flags may repeat.
enum ArgumentSyntax {
    /// An option that takes values, as the parser describes it: its long names and whether it takes several.
    struct OptionShape: Equatable {
        var names: [String]
        var isList: Bool
    }

    /// `arguments` (without the executable) with every negative number after an option joined to it, for the
    /// subcommand whose value-taking options are `options` (by each long name); arguments after `--` stay as they are.
    /// Throws a `ValidationError` for an option of one value named twice.
    static func prepared(_ arguments: [String], options: [String: OptionShape]) throws -> [String] {
        var result: [String] = []
        // The option whose values may follow, and whether the next argument would be its first value.
        var open: (name: String, shape: OptionShape, awaitsValue: Bool)?
        var firstUse: [String: String] = [:]   // an option of one value's first name -> the argument that first gave it
        /// The option at `index` as given: with its value, when that is the next argument.
        func given(_ index: Int) -> String {
            let argument = arguments[index]
            return argument.contains("=") || index + 1 >= arguments.count ? argument : "\(argument) \(arguments[index + 1])"
        }
        for (index, argument) in arguments.enumerated() {
            if argument == "--" {
                result += arguments[index...]
                break
            }
            if argument.hasPrefix("--") {
                let name = String(argument.dropFirst(2).prefix { $0 != "=" })
                open = options[name].map { (name, $0, !argument.contains("=")) }
                if let shape = options[name], !shape.isList {
                    if let first = firstUse[shape.names[0]] {
                        throw ValidationError("--\(name) is given twice ('\(first)', then '\(given(index))'): it takes one value, so give it once")
                    }
                    firstUse[shape.names[0]] = given(index)
                }
                result.append(argument)
            } else if let option = open, isNegativeNumber(argument), option.awaitsValue || option.shape.isList {
                if option.awaitsValue { result.removeLast() }
                result.append("--\(option.name)=\(argument)")
                open?.awaitsValue = false
                if !option.shape.isList { open = nil }
            } else {
                if open?.shape.isList == false && open?.awaitsValue == false { open = nil }
                open?.awaitsValue = false
                result.append(argument)
            }
        }
        return result
    }

    /// "-1", "-0.5", "-.5", "-1e3", "-8/255": a number (or fraction) below zero, never an option name.
    static func isNegativeNumber(_ text: String) -> Bool {
        guard text.hasPrefix("-"), let next = text.dropFirst().first, next.isNumber || next == "." else { return false }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count <= 2 && parts.allSatisfy { Double($0) != nil }
    }

    /// The value-taking options of each subcommand of `command`, by subcommand name and then by each long name, read
    /// from the parser's description of the tool (`ParsableCommand._dumpHelp()`, its `--experimental-dump-help`).
    static func options(of command: ParsableCommand.Type) -> [String: [String: OptionShape]] {
        guard let data = command._dumpHelp().data(using: .utf8),
              let tool = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let root = tool["command"] as? [String: Any] else { return [:] }
        var result: [String: [String: OptionShape]] = [:]
        for subcommand in root["subcommands"] as? [[String: Any]] ?? [] {
            guard let name = subcommand["commandName"] as? String else { continue }
            var options: [String: OptionShape] = [:]
            for argument in subcommand["arguments"] as? [[String: Any]] ?? [] where argument["kind"] as? String == "option" {
                let names = (argument["names"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "long" }.compactMap { $0["name"] as? String }
                guard !names.isEmpty else { continue }
                let shape = OptionShape(names: names, isList: argument["isRepeating"] as? Bool ?? false)
                for long in names { options[long] = shape }
            }
            result[name] = options
        }
        return result
    }
}
