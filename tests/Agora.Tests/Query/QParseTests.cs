using Agora.Errors;
using Agora.Query;

namespace Agora.Tests.Query;

public sealed class QParseTests
{
    private static QTerm Term(string q) => Assert.IsType<QTerm>(QExpression.Parse(q).Root);

    [Fact]
    public void PathsSplitIntoNamesMetadataAndTrailingPath()
    {
        Assert.Equal(new QPath(["sensor", "rawdata"], null, ["airquality", "particulate"]), Term("sensor.rawdata[airquality.particulate]==40").Path);
        Assert.Equal(new QPath(["temperature"], "observedAt", []), Term("temperature.observedAt>=2017-12-24T12:00:00Z").Path);
        Assert.Equal(new QPath([], "modifiedAt", []), Term("modifiedAt>2017-12-24").Path);
        Assert.Equal(new QPath(["name"], null, ["*"]), Term("name[*]==\"x\"").Path);
        Assert.Equal(new QPath(["name"], null, ["de-CH"]), Term("name[de-CH]").Path);
        Assert.Equal(new QPath(["ex:temp"], null, []), Term("ex:temp").Path);
    }

    [Fact]
    public void ValuesAreTypedByTheirSpelling()
    {
        Assert.Equal(new QNumber(20), Term("t==20").Value);
        Assert.Equal(new QNumber(-1.5e3), Term("t==-1.5E3").Value);
        Assert.Equal(new QString("a\"b\\c\u00e9\n"), Term("t==\"a\\\"b\\\\c\\u00e9\\n\"").Value);
        Assert.Equal(new QBool(true), Term("t==true").Value);
        Assert.Equal(new QUri("urn:ngsi-ld:City:Pisa"), Term("t==urn:ngsi-ld:City:Pisa").Value);
        Assert.Equal(new QUri("trueish"), Term("t==trueish").Value);
        Assert.Equal(new QDateTime(new DateTimeOffset(2017, 12, 24, 11, 0, 0, TimeSpan.Zero)), Term("t==2017-12-24T12:00:00+01:00").Value);
        Assert.Equal(new QDate(new DateOnly(2017, 12, 24)), Term("t==2017-12-24").Value);
        Assert.Equal(new QTime(new TimeOnly(12, 30, 5, 500)), Term("t==12:30:05.5Z").Value);
        Assert.Equal(new QRange(new QNumber(1), new QNumber(5)), Term("t==1..5").Value);
        Assert.Equal(new QRange(new QNumber(-5), new QNumber(-1)), Term("t!=-5..-1").Value);
        Assert.Equal(new QList([new QString("black"), new QString("red")]), Term("t==\"black\",\"red\"").Value);
        Assert.Equal(new QRegex("a|b"), Term("t~=\"a|b\"").Value);
    }

    [Fact]
    public void AndBindsTighterThanOrAndGroupsAreKept()
    {
        var a = new QTerm(new QPath(["a"], null, []), QOperator.Exists, null);
        var b = new QTerm(new QPath(["b"], null, []), QOperator.Exists, null);
        var c = new QTerm(new QPath(["c"], null, []), QOperator.Exists, null);
        Assert.Equal(new QOr([a, new QAnd([b, c])]), QExpression.Parse("a|b;c").Root);
        Assert.Equal(new QAnd([new QOr([a, b]), c]), QExpression.Parse("(a|b);c").Root);
        Assert.Equal(new QAnd([new QAnd([a, b]), c]), QExpression.Parse("(a;b);c").Root);
        Assert.Equal(a, QExpression.Parse("((a))").Root);
    }

    [Theory]
    [InlineData("speed>50;brandName!=\"Mercedes\"")]
    [InlineData("((speed>50|rpm>3000);brandName==\"Mercedes\")")]
    [InlineData("(temperature>=20;temperature<=25)|capacity<=10")]
    [InlineData("isParked==\"urn:ngsi-ld:OffStreetParking:Downtown1\"")]
    [InlineData("address[city]==\"Berlin\"")]
    [InlineData("temperature==10..20")]
    [InlineData("color==\"black\",\"red\"")]
    [InlineData("gender==Male")]
    [InlineData("name~=(?i)^eiffel")]
    [InlineData("date==2020-01-01T00:00:00.123456789Z")]
    public void SpecExamplesParseAndRoundTrip(string q)
    {
        var parsed = QExpression.Parse(q);
        Assert.Equal(parsed, QExpression.Parse(parsed.ToString()));
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("(invalidQuery", 14)]
    [InlineData("a==", 4)]
    [InlineData("a=1", 2)]
    [InlineData("a==1)", 5)]
    [InlineData("a==1;", 6)]
    [InlineData("a>true", 3)]
    [InlineData("a>urn:x", 3)]
    [InlineData("a==\"x", 4)]
    [InlineData("a==5abc", 5)]
    [InlineData("a==1..true", 7)]
    [InlineData("a==1..\"x\"", 7)]
    [InlineData("a==1e999", 4)]
    [InlineData("a[b][c]", 5)]
    [InlineData("a.observedAt[x]", 16)]
    [InlineData("a == 1", 2)]
    [InlineData("a==x y", 5)]
    [InlineData("!a==1", 3)]
    [InlineData("a~=(", 4)]
    [InlineData("a==2020-13-01", 4)]
    [InlineData("1a", 1)]
    public void MalformedExpressionsAreRejectedWithTheirPosition(string q, int position)
    {
        var e = Assert.Throws<NgsiLdException>(() => QExpression.Parse(q));
        Assert.Equal(ErrorTypes.BadRequestData, e.Type);
        if (position > 0)
        {
            Assert.Contains($"position {position}", e.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void OversizedExpressionsAreTooComplex()
    {
        var deep = new string('(', 40) + "a" + new string(')', 40);
        Assert.Equal(ErrorTypes.TooComplexQuery, Assert.Throws<NgsiLdException>(() => QExpression.Parse(deep)).Type);
        var shallow = new string('(', 30) + "a" + new string(')', 30);
        Assert.IsType<QTerm>(QExpression.Parse(shallow).Root);
        var tooLong = string.Join(";", Enumerable.Repeat("abc==1", 700));
        Assert.Equal(ErrorTypes.TooComplexQuery, Assert.Throws<NgsiLdException>(() => QExpression.Parse(tooLong)).Type);
    }

    [Fact]
    public void RegexBombsRunInLinearTime()
    {
        var q = QExpression.Parse("name~=\"^(a+)+$\"");
        var entity = new System.Text.Json.Nodes.JsonObject
        {
            ["https://uri.etsi.org/ngsi-ld/default-context/name"] = new System.Text.Json.Nodes.JsonArray(
                new System.Text.Json.Nodes.JsonObject { ["type"] = "Property", ["value"] = new string('a', 5000) + "!" }),
        };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(q.Matches(entity, Agora.JsonLd.JsonLdContext.Core));
        Assert.True(watch.ElapsedMilliseconds < 2000);
    }
}
