import Hummingbird
import Logging

/// Makes every failure a JSON answer `{"error":"…"}`: the router's own 404, this module's
/// `HTTPAPIError`, and anything unexpected (500, logged). Also refuses over-long request targets
/// before any routing work.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let limits: HTTPLimits

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.uri.string.utf8.count <= limits.maxURILength else {
            return HTTPAPIError(.uriTooLong, "the request target is longer than \(limits.maxURILength) bytes")
                .jsonResponse
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPAPIError {
            return error.jsonResponse
        } catch let error as HTTPError {
            let message = error.body ?? Self.defaultMessage(error.status, request: request)
            return HTTPAPIError(error.status, message, headers: error.headers).jsonResponse
        } catch let error as any HTTPResponseError {
            return HTTPAPIError(error.status, Self.defaultMessage(error.status, request: request)).jsonResponse
        } catch {
            context.logger.error("HTTP handler failed", metadata: ["error": "\(String(reflecting: error))"])
            return HTTPAPIError(.internalServerError, "internal error").jsonResponse
        }
    }

    private static func defaultMessage(_ status: HTTPResponse.Status, request: Request) -> String {
        status == .notFound ? "no route for \(request.method) \(request.uri.path)" : status.reasonPhrase
    }
}
