# Perl TAP: report_html() over a window with a regression in it.  The page
# parses (xmllint, as XML, which is stricter than HTML), refers to nothing
# outside itself, carries its SVG charts and sections, escapes what comes
# from the database, and renders in headless Chromium to a page that is
# not blank and shows the charts' colours.  The test command installs
# xmllint and Chromium; without them those two parts are skipped.
use strict;
use warnings;
use Compress::Zlib;
use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('report');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'dbopt, pg_stat_statements'\ndbopt.enable_worker = off");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE TABLE "http://example.com/<b>" (id int PRIMARY KEY, v text);
	INSERT INTO "http://example.com/<b>" SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
});

# Five snapshots; pg_sleep gets five times slower in the second half.
my @snaps;
push @snaps, $node->safe_psql('postgres', 'SELECT dbopt.take_snapshot()');
for my $ms (1, 1, 5, 5)
{
	my $sql = join '', map { "SELECT pg_sleep($ms / 1000.0); SELECT v FROM \"http://example.com/<b>\" WHERE id = $_;\n" } 1 .. 30;
	$node->safe_psql('postgres', $sql);
	push @snaps, $node->safe_psql('postgres', 'SELECT dbopt.take_snapshot()');
}

my $file = File::Spec->rel2abs($node->basedir . '/report.html');
command_ok([ 'psql', '-X', '-At', '-d', $node->connstr('postgres'), '-o', $file,
		'-c', "SELECT dbopt.report_html($snaps[0], $snaps[-1])" ],
	'psql -Atc writes the report to a file');
my $html = slurp_file($file);

like($html, qr/\A<!DOCTYPE html>\n<html lang="en">/, 'it is an HTML document');
like($html, qr{</body></html>\n*\z}, 'and it is complete');
unlike($html, qr{https?://}i, 'no http:// or https:// reference anywhere');
unlike($html, qr/<script|<link|\burl\(|\@import|<img/i, 'no scripts, linked styles, fonts or images');
is(scalar(() = $html =~ /<svg /g), 4, 'four inline SVG charts');
like($html, qr/<polyline [^>]*points="[\d.]+,[\d.]+ [\d.]+,[\d.]+/, 'with lines of at least two points');
for my $h ('Summary', 'Charts', 'Top statements by total time', 'Regressions', 'Health now')
{
	like($html, qr{<h2>\Q$h\E</h2>}, "section $h");
}
like($html, qr{&quot;http&#58;//example\.com/&lt;b&gt;&quot;}, 'text from the database is escaped');
my ($regressions) = $html =~ m{<h2>Regressions</h2>(.*?)<h2>}s;
like($regressions, qr{<td class="n">[\d.]+</td><td class="n">[\d.e-]+</td><td><code>SELECT pg_sleep\(\$1 / \$2\)</code>},
	'the slower statement is among the regressions, with its ratio and p-value');

my ($rc, $out, $err) = $node->psql('postgres', "SELECT dbopt.report_html($snaps[-1], $snaps[0])");
like($err, qr/invalid snapshot window/, 'a reversed window is refused');
($rc, $out, $err) = $node->psql('postgres', "SELECT dbopt.report_html($snaps[0], 999999)");
like($err, qr/does not exist/, 'an unknown snapshot is refused');

SKIP:
{
	skip 'xmllint is not installed', 1 unless system('sh', '-c', 'command -v xmllint >/dev/null') == 0;
	command_ok([ 'xmllint', '--noout', $file ], 'the page parses as well-formed XML');
}

# PNG: width, height, and the RGB(A) rows after undoing the filters.
sub png_pixels
{
	my ($path) = @_;
	my $png = slurp_file($path);
	return unless substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n";
	my ($pos, $idat, $w, $h, $depth, $type) = (8, '');
	while ($pos < length $png)
	{
		my ($len, $kind) = unpack('N a4', substr($png, $pos, 8));
		my $data = substr($png, $pos + 8, $len);
		($w, $h, $depth, $type) = unpack('N N C C', $data) if $kind eq 'IHDR';
		$idat .= $data if $kind eq 'IDAT';
		$pos += 12 + $len;
	}
	return unless $depth == 8 && ($type == 2 || $type == 6);
	my $bpp = $type == 6 ? 4 : 3;
	my $raw = uncompress($idat);
	my $stride = $w * $bpp;
	my @prev = (0) x $stride;
	my @rows;
	for my $y (0 .. $h - 1)
	{
		my $off = $y * ($stride + 1);
		my $f = ord(substr($raw, $off, 1));
		my @cur = unpack('C*', substr($raw, $off + 1, $stride));
		for my $i (0 .. $stride - 1)
		{
			my $a = $i >= $bpp ? $cur[ $i - $bpp ] : 0;
			my $b = $prev[$i];
			my $c = $i >= $bpp ? $prev[ $i - $bpp ] : 0;
			my $p;
			if    ($f == 0) { $p = 0 }
			elsif ($f == 1) { $p = $a }
			elsif ($f == 2) { $p = $b }
			elsif ($f == 3) { $p = ($a + $b) >> 1 }
			else
			{
				my $e = $a + $b - $c;
				my ($pa, $pb, $pc) = (abs($e - $a), abs($e - $b), abs($e - $c));
				$p = ($pa <= $pb && $pa <= $pc) ? $a : ($pb <= $pc ? $b : $c);
			}
			$cur[$i] = ($cur[$i] + $p) & 255;
		}
		push @rows, [@cur];
		@prev = @cur;
	}
	return ($w, $h, $bpp, \@rows);
}

SKIP:
{
	my ($chromium) = grep { system('sh', '-c', "command -v $_ >/dev/null") == 0 } qw(chromium chromium-browser);
	skip 'Chromium is not installed', 3 unless $chromium;
	my $shot = $node->basedir . '/report.png';
	my $log = $node->basedir . '/chromium.log';
	local $ENV{HOME} = $node->basedir;
	system('sh', '-c', qq{"\$0" "\$@" > "$log" 2>&1}, $chromium, '--headless', '--no-sandbox', '--disable-gpu',
		'--hide-scrollbars', '--user-data-dir=' . $node->basedir . '/chromium', '--window-size=900,1300',
		"--screenshot=$shot", "file://$file");
	ok(-s $shot, 'headless Chromium renders a screenshot') or diag(slurp_file($log));
	my ($w, $h, $bpp, $rows) = -s $shot ? png_pixels($shot) : ();
	$rows //= [];
	my (%colours, $ink, $blue);
	for my $row (@$rows)
	{
		for (my $i = 0; $i < @$row; $i += $bpp)
		{
			my ($r, $g, $b) = @$row[ $i .. $i + 2 ];
			$colours{"$r,$g,$b"}++;
			$ink++ if $r + $g + $b < 600;
			# the first series colour, #2563eb, drawn by the charts
			$blue++ if abs($r - 0x25) < 24 && abs($g - 0x63) < 24 && abs($b - 0xeb) < 24;
		}
	}
	my $pixels = ($w // 0) * ($h // 0);
	ok($pixels && keys(%colours) > 20 && $ink / $pixels > 0.01,
		sprintf('the screenshot is not blank (%d colours, %.1f%% ink)', scalar keys %colours, 100 * ($ink // 0) / ($pixels || 1)));
	ok(($blue // 0) > 100, "the charts' lines are drawn (" . ($blue // 0) . ' blue pixels)');
}

done_testing();
