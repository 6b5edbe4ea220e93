using System.Net;
using static Agora.Tests.Batch.BatchClient;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Batch;

/// What every batch operation refuses as a whole, before touching any entity.
public sealed class BatchRequestTests
{
    private static readonly string[] AllOperations = ["create", "upsert", "update", "merge", "delete"];

    private static async Task AssertEachRejectedAsync(AgoraApplication app, string body, HttpStatusCode status, string errorType)
    {
        var failures = new List<string>();
        foreach (var operation in AllOperations)
        {
            using var response = await app.BatchAsync(operation, body);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != status || !text.Contains($"\"{ErrorTypes}{errorType}\"", StringComparison.Ordinal))
            {
                failures.Add($"{operation}: {(int)response.StatusCode} {text}");
            }
        }
        Assert.True(failures.Count == 0, $"Expected {(int)status} {errorType} for {body}:\n" + string.Join("\n", failures));
    }

    [Fact]
    public async Task AnEmptyBatchIsBadRequestData()
    {
        await using var app = new AgoraApplication();

        await AssertEachRejectedAsync(app, "[]", HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task ABodyThatIsNotAnArrayIsInvalidRequest()
    {
        await using var app = new AgoraApplication();

        await AssertEachRejectedAsync(app, """{"id": "urn:ngsi-ld:Room:1", "type": "Room"}""", HttpStatusCode.BadRequest, "InvalidRequest");
        await AssertEachRejectedAsync(app, "\"urn:ngsi-ld:Room:1\"", HttpStatusCode.BadRequest, "InvalidRequest");
        await AssertEachRejectedAsync(app, "[{\"id\": ", HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task ABatchLargerThanMaxBatchSizeIsBadRequestDataAndWritesNothing()
    {
        await using var app = new AgoraApplication(("Agora:MaxBatchSize", "5"));
        var six = "[" + string.Join(",", Enumerable.Range(1, 6).Select(i => $$"""{"id": "urn:ngsi-ld:Room:{{i}}", "type": "Room"}""")) + "]";

        await AssertEachRejectedAsync(app, six, HttpStatusCode.BadRequest, "BadRequestData");
        using var deletes = await app.BatchAsync("delete", "[" + string.Join(",", Enumerable.Range(1, 6).Select(i => $"\"urn:ngsi-ld:Room:{i}\"")) + "]");

        await ProblemAsync(deletes, HttpStatusCode.BadRequest, "BadRequestData");
        Assert.False(await app.ExistsAsync("urn:ngsi-ld:Room:1"));
    }

    [Fact]
    public async Task ABatchOfExactlyMaxBatchSizeIsAccepted()
    {
        await using var app = new AgoraApplication(("Agora:MaxBatchSize", "5"));
        var five = "[" + string.Join(",", Enumerable.Range(1, 5).Select(i => $$"""{"id": "urn:ngsi-ld:Room:{{i}}", "type": "Room"}""")) + "]";

        using var response = await app.BatchAsync("create", five);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(await app.ExistsAsync("urn:ngsi-ld:Room:5"));
    }

    [Fact]
    public async Task AnUnknownParameterIsInvalidRequest()
    {
        await using var app = new AgoraApplication();

        using var response = await app.BatchAsync("create", """[{"id": "urn:ngsi-ld:Room:1", "type": "Room"}]""", "?colour=red");

        await ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest");
        Assert.False(await app.ExistsAsync("urn:ngsi-ld:Room:1"));
    }
}
