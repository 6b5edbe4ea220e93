using System.Text.Json.Nodes;

namespace Agora.Errors;

/// The error types of ETSI GS CIM 009 (clause 5.5.2), with the HTTP status each one maps to.
internal static class ErrorTypes
{
    private const string Base = "https://uri.etsi.org/ngsi-ld/errors/";
    public const string InvalidRequest = Base + "InvalidRequest";
    public const string BadRequestData = Base + "BadRequestData";
    public const string AlreadyExists = Base + "AlreadyExists";
    public const string OperationNotSupported = Base + "OperationNotSupported";
    public const string ResourceNotFound = Base + "ResourceNotFound";
    public const string InternalError = Base + "InternalError";
    public const string TooComplexQuery = Base + "TooComplexQuery";
    public const string TooManyResults = Base + "TooManyResults";
    public const string LdContextNotAvailable = Base + "LdContextNotAvailable";
    public const string NoMultiTenantSupport = Base + "NoMultiTenantSupport";
    public const string NonexistentTenant = Base + "NonexistentTenant";
    public const string Conflict = Base + "Conflict";
    public const string Gone = Base + "Gone";

    public static int StatusOf(string type) => type switch
    {
        InvalidRequest or BadRequestData => 400,
        AlreadyExists or Conflict => 409,
        OperationNotSupported => 422,
        ResourceNotFound or NonexistentTenant => 404,
        TooComplexQuery or TooManyResults => 403,
        LdContextNotAvailable => 503,
        NoMultiTenantSupport => 501,
        Gone => 410,
        _ => 500,
    };
}

/// An NGSI-LD failure: thrown anywhere below an endpoint and rendered once, as ProblemDetails, by
/// <see cref="NgsiLdErrorHandler"/>. Throwing keeps validation code linear; it is never used for control flow
/// on a success path.
internal sealed class NgsiLdException(string type, string title, string? detail = null, int? status = null)
    : Exception(detail ?? title)
{
    public string Type { get; } = type;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;
    public int Status { get; } = status ?? ErrorTypes.StatusOf(type);

    public static NgsiLdException BadRequest(string title, string? detail = null) => new(ErrorTypes.BadRequestData, title, detail);
    public static NgsiLdException Invalid(string title, string? detail = null) => new(ErrorTypes.InvalidRequest, title, detail);
    public static NgsiLdException NotFound(string title, string? detail = null) => new(ErrorTypes.ResourceNotFound, title, detail);

    public JsonObject ToJson() => ProblemJson(Type, Title, Detail, Status);

    public static JsonObject ProblemJson(string type, string title, string? detail, int status)
    {
        var o = new JsonObject { ["type"] = type, ["title"] = title, ["status"] = status };
        if (detail is not null)
        {
            o["detail"] = detail;
        }
        return o;
    }
}
