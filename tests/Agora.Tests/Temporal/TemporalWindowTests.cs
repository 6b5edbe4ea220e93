using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.Temporal.TemporalClient;

namespace Agora.Tests.Temporal;

/// Which instances a retrieval shows (clause 4.11): the time window and its bounds, the time property, lastN,
/// and the projections. The vehicle: speed 120, 80, 100 at 12:03, 12:05, 12:07; fuelLevel 67, 53, 40 at 12:03,
/// 13:05, 14:07 (2020-08-01).
public sealed class TemporalWindowTests
{
    private const string Id = "urn:ngsi-ld:Vehicle:A";

    private static async Task<AgoraApplication> VehicleAsync()
    {
        var app = new AgoraApplication();
        await app.CreateHistoryAsync(Vehicle(Id));
        return app;
    }

    // Each window with the values it shows per attribute; null when the attribute has no instance in it.
    public static TheoryData<string, int[]?, int[]?> Windows => new()
    {
        // before is strict: 80 and 53 fall at or after 12:05.
        { "timerel=before&timeAt=2020-08-01T12:05:00Z", [120], [67] },
        // after is inclusive: 80 at 12:05 is in.
        { "timerel=after&timeAt=2020-08-01T12:05:00Z", [80, 100], [53, 40] },
        // between includes its start (80 at 12:05) and excludes its end (53 at 13:05), leaving fuelLevel out.
        { "timerel=between&timeAt=2020-08-01T12:05:00Z&endTimeAt=2020-08-01T13:05:00Z", [80, 100], null },
        { "timerel=after&timeAt=2020-08-01T12:08:00Z", null, [53, 40] },
        // lastN keeps the N latest of each attribute, shown oldest first.
        { "lastN=2", [80, 100], [53, 40] },
        { "lastN=1&timerel=before&timeAt=2020-08-01T13:06:00Z", [100], [53] },
        { "lastN=7", [120, 80, 100], [67, 53, 40] },
    };

    [Theory]
    [MemberData(nameof(Windows))]
    public async Task TheWindowSelectsInstances(string query, int[]? speed, int[]? fuel)
    {
        await using var app = await VehicleAsync();

        var history = await app.HistoryAsync(Id, "?" + query);

        Assert.Equal(speed, history["speed"] is null ? null : ValuesOf(history, "speed").Select(v => (int)v!).ToArray());
        Assert.Equal(fuel, history["fuelLevel"] is null ? null : ValuesOf(history, "fuelLevel").Select(v => (int)v!).ToArray());
    }

    [Fact]
    public async Task AnAttributeWithoutInstancesInTheWindowIsLeftOut()
    {
        await using var app = await VehicleAsync();

        var history = await app.HistoryAsync(Id, "?timerel=between&timeAt=2020-08-01T13:00:00Z&endTimeAt=2020-08-01T15:00:00Z");

        HistoryEqual($$"""
            {"id": "{{Id}}", "type": "Vehicle", "fuelLevel": [{{P(53, "2020-08-01T13:05:00Z")}}, {{P(40, "2020-08-01T14:07:00Z")}}]}
            """, history);
    }

    public static TheoryData<string, string> Projections => new()
    {
        { "attrs=fuelLevel", $$"""{"id": "{{Id}}", "type": "Vehicle", "fuelLevel": [67, 53, 40]}""" },
        { "attrs=fuelLevel,speed", $$"""{"id": "{{Id}}", "type": "Vehicle", "speed": [120, 80, 100], "fuelLevel": [67, 53, 40]}""" },
        { "pick=speed", """{"speed": [120, 80, 100]}""" },
        { "pick=id,speed", $$"""{"id": "{{Id}}", "speed": [120, 80, 100]}""" },
        { "omit=speed", $$"""{"id": "{{Id}}", "type": "Vehicle", "fuelLevel": [67, 53, 40]}""" },
        { "omit=type,speed", $$"""{"id": "{{Id}}", "fuelLevel": [67, 53, 40]}""" },
        { "omit=id", """{"type": "Vehicle", "speed": [120, 80, 100], "fuelLevel": [67, 53, 40]}""" },
    };

    [Theory]
    [MemberData(nameof(Projections))]
    public async Task AttrsPickAndOmitChooseTheMembers(string query, string expected)
    {
        await using var app = await VehicleAsync();

        var history = await app.HistoryAsync(Id, "?" + query);

        // Each attribute reduced to its values, in order.
        var values = new JsonObject();
        foreach (var (key, value) in history)
        {
            values[key] = value is JsonArray instances ? new JsonArray([.. instances.Select(i => i!["value"]!.DeepClone())]) : value!.DeepClone();
        }
        NgsiLdAssert.JsonEqual(expected, values);
    }

    [Fact]
    public async Task PickingOnlyIdShowsTheId()
    {
        await using var app = await VehicleAsync();

        var picked = await app.HistoryAsync(Id, "?pick=id");
        var pickedWithType = await app.HistoryAsync(Id, "?pick=id,type");

        NgsiLdAssert.JsonEqual($$"""{"id": "{{Id}}"}""", picked);
        NgsiLdAssert.JsonEqual($$"""{"id": "{{Id}}", "type": "Vehicle"}""", pickedWithType);
    }

    [Fact]
    public async Task SysAttrsShowsWhenInstancesWereRecorded()
    {
        await using var app = new AgoraApplication();
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await app.CreateHistoryAsync(Vehicle(Id));
        var after = DateTimeOffset.UtcNow.AddSeconds(1);

        var plain = await app.HistoryAsync(Id);
        var withSysAttrs = await app.HistoryAsync(Id, "?options=sysAttrs");

        Assert.All(plain["speed"]!.AsArray(), i => Assert.Null(i!["createdAt"]));
        Assert.All(plain["speed"]!.AsArray(), i => Assert.Null(i!["modifiedAt"]));
        Assert.Null(plain["createdAt"]);
        foreach (var instance in withSysAttrs["speed"]!.AsArray().Concat(withSysAttrs["fuelLevel"]!.AsArray()))
        {
            Assert.InRange(Instant(instance!["createdAt"]), before, after);
            Assert.InRange(Instant(instance["modifiedAt"]), before, after);
        }
        Assert.InRange(Instant(withSysAttrs["createdAt"]), before, after);
        Assert.InRange(Instant(withSysAttrs["modifiedAt"]), before, after);
    }

    private static DateTimeOffset Instant(JsonNode? node) =>
        DateTimeOffset.Parse((string)node!, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task TimepropertyCreatedAtAndModifiedAtWindowOnRecordingTimes()
    {
        await using var app = await VehicleAsync();
        await Task.Delay(20);
        var middle = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        using var client = app.CreateClient();
        // fuelLevel is added after the middle instant; speed's first instance is modified after it.
        using (var added = await client.PostAsync(HistoryPath(Id) + "/attrs", Json($$"""{"oilTemperature": [{{P(90, "2020-08-01T12:10:00Z")}}]}""")))
        {
            Assert.Equal(HttpStatusCode.NoContent, added.StatusCode);
        }
        var first = (string)(await app.HistoryAsync(Id))["speed"]![0]!["instanceId"]!;
        using (var modified = await client.PatchAsync($"{HistoryAttrPath(Id, "speed")}/{Uri.EscapeDataString(first)}", Json("""{"type": "Property", "value": 121}""")))
        {
            Assert.Equal(HttpStatusCode.NoContent, modified.StatusCode);
        }

        var createdAfter = await app.HistoryAsync(Id, $"?timeproperty=createdAt&timerel=after&timeAt={At(middle)}");
        var createdBefore = await app.HistoryAsync(Id, $"?timeproperty=createdAt&timerel=before&timeAt={At(middle)}");
        var modifiedAfter = await app.HistoryAsync(Id, $"?timeproperty=modifiedAt&timerel=after&timeAt={At(middle)}");

        Assert.Equal(["id", "oilTemperature", "type"], createdAfter.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal([90], ValuesOf(createdAfter, "oilTemperature").Select(v => (int)v!));
        Assert.Null(createdBefore["oilTemperature"]);
        Assert.Equal([121, 80, 100], ValuesOf(createdBefore, "speed").Select(v => (int)v!));
        Assert.Equal([67, 53, 40], ValuesOf(createdBefore, "fuelLevel").Select(v => (int)v!));
        Assert.Equal([121], ValuesOf(modifiedAfter, "speed").Select(v => (int)v!));
        Assert.Equal([90], ValuesOf(modifiedAfter, "oilTemperature").Select(v => (int)v!));
        Assert.Null(modifiedAfter["fuelLevel"]);
    }
}
