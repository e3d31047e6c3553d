import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A blocking HTTP GET for tests: status and parsed JSON body.
enum HTTPGet {
    final class Box: @unchecked Sendable {
        var status = 0
        var body = Data()
        var headers: [String: String] = [:]
    }

    static func get(_ url: String, timeout: Double = 10) throws -> (status: Int, json: Any?) {
        let answer = try getWithHeaders(url, timeout: timeout)
        return (answer.status, answer.json)
    }

    /// Status, parsed JSON body and headers (names lowercased).
    static func getWithHeaders(_ url: String, timeout: Double = 10) throws -> (status: Int, json: Any?, headers: [String: String]) {
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = timeout
        URLSession.shared.dataTask(with: request) { data, response, _ in
            let http = response as? HTTPURLResponse
            box.status = http?.statusCode ?? 0
            box.body = data ?? Data()
            for (name, value) in http?.allHeaderFields ?? [:] {
                if let name = name as? String, let value = value as? String { box.headers[name.lowercased()] = value }
            }
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + timeout + 1) == .success else { throw TestFailure("GET \(url) timed out") }
        return (box.status, try? JSONSerialization.jsonObject(with: box.body, options: [.fragmentsAllowed]), box.headers)
    }

    /// Waits until GET `url` answers 200.
    static func waitReady(_ url: String, timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let r = try? get(url, timeout: 2), r.status == 200 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TestFailure("\(url) never answered 200")
    }
}
