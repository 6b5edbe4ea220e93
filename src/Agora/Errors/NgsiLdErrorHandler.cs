using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;

namespace Agora.Errors;

/// Turns every failure into an NGSI-LD ProblemDetails: NgsiLdException as it says, malformed or oversized
/// bodies as the client errors they are, and anything else as a logged InternalError that says nothing of
/// the server's insides.
internal sealed class NgsiLdErrorHandler(ILogger<NgsiLdErrorHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var error = Translate(exception);
        if (error.Status >= 500)
        {
            logger.LogError(exception, "Unhandled failure on {Method} {Path}", http.Request.Method, http.Request.Path);
        }
        await WriteAsync(http, error, ct);
        return true;
    }

    public static NgsiLdException Translate(Exception exception) => exception switch
    {
        NgsiLdException e => e,
        JsonException e => NgsiLd.NgsiLdRequest.Malformed(e),
        BadHttpRequestException { StatusCode: 413 } => new NgsiLdException(ErrorTypes.BadRequestData,
            "Payload too large", "The request body exceeds the configured limit (Agora:MaxBodyBytes).", 413),
        BadHttpRequestException e => NgsiLdException.Invalid("Bad request", e.Message),
        InvalidOperationException { InnerException: JsonException e } => NgsiLd.NgsiLdRequest.Malformed(e),
        OperationCanceledException => new NgsiLdException(ErrorTypes.InternalError, "Request cancelled", null, 499),
        _ => new NgsiLdException(ErrorTypes.InternalError, "Internal error", "The server failed to process the request; the failure is logged."),
    };

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpContext http, NgsiLdException error, CancellationToken ct = default)
    {
        if (http.Response.HasStarted)
        {
            return;
        }
        http.Response.Clear();
        http.Response.StatusCode = error.Status;
        http.Response.ContentType = "application/json";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await http.Response.WriteAsync(error.ToJson().ToJsonString(JsonOptions), ct);
    }
}
