using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;
using static Agora.Tests.Queries.QueryClient;

namespace Agora.Tests.Queries;

/// limit, offset, count and orderBy: pages are disjoint, stable and together cover every match once.
public sealed class PagingTests
{
    private const int Total = 45;

    /// 45 parked cars, numbered 0 to 44, each a kilometre-ish apart along the equator; odd ones are red.
    private static async Task<AgoraApplication> CarParkAsync()
    {
        var app = new AgoraApplication();
        var cars = new JsonArray();
        for (var i = 0; i < Total; i++)
        {
            cars.Add(new JsonObject
            {
                ["id"] = $"urn:ngsi-ld:Car:{i:D2}",
                ["type"] = "Car",
                ["number"] = i,
                ["colour"] = i % 2 == 1 ? "red" : "blue",
                ["location"] = new JsonObject
                {
                    ["type"] = "GeoProperty",
                    ["value"] = new JsonObject { ["type"] = "Point", ["coordinates"] = new JsonArray(i * 0.01, 0) },
                },
            });
        }
        await app.SeedAsync(cars.ToJsonString());
        return app;
    }

    private static async Task<(JsonArray Page, string? Count)> PageAsync(AgoraApplication app, string query)
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync($"{EntitiesPath}?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var count = response.Headers.TryGetValues("NGSILD-Results-Count", out var values) ? values.Single() : null;
        return (JsonNode.Parse(body)!.AsArray(), count);
    }

    private static string Near(int metres) =>
        $"georel=near%3BmaxDistance%3D%3D{metres}&geometry=Point&coordinates=%5B0%2C0%5D";

    private static List<string> Ids(JsonArray page) => [.. page.Select(e => (string)e!["id"]!)];

    [Fact]
    public async Task PagesAreDisjointAndCoverEveryMatchExactlyOnce()
    {
        await using var app = await CarParkAsync();

        // Exact SQL, an index-narrowed q, an inexact idPattern and a geo-query each page their own way.
        foreach (var query in new[] { "type=Car", "type=Car&q=number>=0", "type=Car&idPattern=Car", "type=Car&" + Near(100000) })
        {
            var pages = new List<List<string>>();
            for (var offset = 0; offset < 60; offset += 20)
            {
                pages.Add(Ids((await PageAsync(app, $"{query}&limit=20&offset={offset}")).Page));
            }

            Assert.True(pages.Select(p => p.Count).SequenceEqual([20, 20, 5]), $"{query}: pages of {string.Join(", ", pages.Select(p => p.Count))}");
            Assert.Equal(Enumerable.Range(0, Total).Select(i => $"urn:ngsi-ld:Car:{i:D2}"), pages.SelectMany(p => p).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task TheSamePageAskedTwiceIsTheSame()
    {
        await using var app = await CarParkAsync();

        var first = Ids((await PageAsync(app, "type=Car&limit=7&offset=13")).Page);
        var again = Ids((await PageAsync(app, "type=Car&limit=7&offset=13")).Page);

        Assert.Equal(first, again);
    }

    [Fact]
    public async Task WithoutALimitAPageHoldsTwentyEntities()
    {
        await using var app = await CarParkAsync();

        Assert.Equal(20, (await PageAsync(app, "type=Car")).Page.Count);
    }

    [Fact]
    public async Task AnOffsetPastTheEndGivesAnEmptyPage()
    {
        await using var app = await CarParkAsync();

        var (page, count) = await PageAsync(app, "type=Car&offset=100&count=true");

        Assert.Empty(page);
        Assert.Equal("45", count);
    }

    [Fact]
    public async Task CountTrueReportsTheTotalWhateverThePage()
    {
        await using var app = await CarParkAsync();

        foreach (var (query, total) in new[]
        {
            ("type=Car", 45),
            ("type=Car&q=colour==\"red\"", 22),
            ("type=Car&q=colour~=\"^re\"", 22),
            ("type=Car&idPattern=Car:1", 10),
            ("type=Car&" + Near(6000), 6),
        })
        {
            var (page, count) = await PageAsync(app, query + "&count=true&limit=3");

            Assert.True(count == total.ToString(CultureInfo.InvariantCulture), $"{query}: count {count}, not {total}");
            Assert.Equal(Math.Min(3, total), page.Count);
        }
    }

    [Fact]
    public async Task WithoutCountThereIsNoCountHeader()
    {
        await using var app = await CarParkAsync();

        Assert.Null((await PageAsync(app, "type=Car")).Count);
    }

    [Fact]
    public async Task LimitZeroWithCountGivesAnEmptyArrayAndTheCount()
    {
        await using var app = await CarParkAsync();

        foreach (var (query, total) in new[] { ("type=Car", "45"), ("type=Car&idPattern=Car:2", "10"), ("type=Car&" + Near(6000), "6") })
        {
            var (page, count) = await PageAsync(app, query + "&limit=0&count=true");

            Assert.Empty(page);
            Assert.Equal(total, count);
        }
    }

    [Fact]
    public async Task ALimitOverAThousandIsTooManyResults()
    {
        await using var app = await CarParkAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(EntitiesPath + "?type=Car&limit=1001");

        await ProblemAsync(response, HttpStatusCode.Forbidden, "TooManyResults");
    }

    [Fact]
    public async Task ALimitOfAThousandIsAllowed()
    {
        await using var app = await CarParkAsync();

        Assert.Equal(Total, (await PageAsync(app, "type=Car&limit=1000")).Page.Count);
    }

    [Fact]
    public async Task ANegativeOrGarbagePagingParameterIsBadRequestData()
    {
        await using var app = await CarParkAsync();

        await app.AssertEachRejectedAsync(HttpStatusCode.BadRequest, "BadRequestData",
            [.. new[] { "limit=-1", "limit=ten", "limit=2.5", "offset=-5", "offset=x", "count=yes", "limit=0" }
                .Select(paging => $"{EntitiesPath}?type=Car&{paging}")]);
    }

    [Fact]
    public async Task OrderByAscendingSortsByTheAttributeValue()
    {
        await using var app = await FourCarsAsync();

        var ascending = Ids((await PageAsync(app, "type=Car&orderBy=speed")).Page);
        var explicitly = Ids((await PageAsync(app, "type=Car&orderBy=speed%3Basc")).Page);
        var descending = Ids((await PageAsync(app, "type=Car&orderBy=speed%3Bdesc")).Page);

        // An entity without the value comes last in either direction.
        Assert.Equal(["urn:ngsi-ld:Car:b", "urn:ngsi-ld:Car:d", "urn:ngsi-ld:Car:a", "urn:ngsi-ld:Car:c"], ascending);
        Assert.Equal(ascending, explicitly);
        Assert.Equal(["urn:ngsi-ld:Car:a", "urn:ngsi-ld:Car:d", "urn:ngsi-ld:Car:b", "urn:ngsi-ld:Car:c"], descending);
    }

    [Fact]
    public async Task OrderByAppliesBeforePaging()
    {
        await using var app = await CarParkAsync();

        var (page, count) = await PageAsync(app, "type=Car&orderBy=number%3Bdesc&limit=3&offset=2&count=true");

        Assert.Equal(["urn:ngsi-ld:Car:42", "urn:ngsi-ld:Car:41", "urn:ngsi-ld:Car:40"], Ids(page));
        Assert.Equal("45", count);
    }

    [Fact]
    public async Task OrderByIdPagesInIdOrderWithOrWithoutAFilterTheStoreCannotRun()
    {
        await using var app = await FourCarsAsync();

        var (all, total) = await PageAsync(app, "type=Car&orderBy=id&count=true");
        var (second, _) = await PageAsync(app, "type=Car&orderBy=id%3Basc&limit=2&offset=1");
        var (fast, counted) = await PageAsync(app, "type=Car&orderBy=id&q=speed%3E20&count=true");
        var (descending, _) = await PageAsync(app, "type=Car&orderBy=id%3Bdesc&limit=1");

        Assert.Equal(["urn:ngsi-ld:Car:a", "urn:ngsi-ld:Car:b", "urn:ngsi-ld:Car:c", "urn:ngsi-ld:Car:d"], Ids(all));
        Assert.Equal("4", total);
        Assert.Equal(["urn:ngsi-ld:Car:b", "urn:ngsi-ld:Car:c"], Ids(second));
        Assert.Equal(["urn:ngsi-ld:Car:a", "urn:ngsi-ld:Car:d"], Ids(fast));
        Assert.Equal("2", counted);
        Assert.Equal(["urn:ngsi-ld:Car:d"], Ids(descending));
    }

    // Four cars stored out of id order, one without a speed.
    private static async Task<AgoraApplication> FourCarsAsync()
    {
        var app = new AgoraApplication();
        await app.SeedAsync("""
            [
              {"id": "urn:ngsi-ld:Car:c", "type": "Car"},
              {"id": "urn:ngsi-ld:Car:a", "type": "Car", "speed": 50},
              {"id": "urn:ngsi-ld:Car:d", "type": "Car", "speed": 30},
              {"id": "urn:ngsi-ld:Car:b", "type": "Car", "speed": 10}
            ]
            """);
        return app;
    }

    [Fact]
    public async Task AnInvalidOrderByIsBadRequestData()
    {
        await using var app = await CarParkAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(EntitiesPath + "?type=Car&orderBy=number%3Bsideways");

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }
}
