using System.Net;
using System.Text.Json.Nodes;

namespace Agora.Tests;

/// Assertions on what an NGSI-LD client receives.
internal static class NgsiLdAssert
{
    public const string ErrorTypes = "https://uri.etsi.org/ngsi-ld/errors/";

    /// The response is the NGSI-LD error of this status and type (a short name such as "BadRequestData").
    public static async Task<JsonObject> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? errorType = null)
    {
        var problem = await AnyProblemAsync(response);
        Assert.Equal(status, response.StatusCode);
        if (errorType is not null)
        {
            Assert.Equal(ErrorTypes + errorType, (string?)problem["type"]);
        }
        return problem;
    }

    /// The response is an NGSI-LD error (a JSON object with an error type URI and a title), and not a 5xx.
    public static async Task<JsonObject> AnyProblemAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"Expected a client error, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body) as JsonObject;
        Assert.NotNull(problem);
        Assert.StartsWith(ErrorTypes, (string?)problem["type"]);
        Assert.False(string.IsNullOrEmpty((string?)problem["title"]), $"The error has no title: {body}");
        return problem;
    }

    /// Two JSON documents are equal whatever the order of their members.
    public static void JsonEqual(string expected, JsonNode? actual)
    {
        var want = JsonNode.Parse(expected);
        Assert.True(JsonNode.DeepEquals(want, actual), $"Expected {want?.ToJsonString()}\nbut got  {actual?.ToJsonString()}");
    }
}
