import { LineCounter, parseAllDocuments } from 'yaml';
for (const src of ['a: x\n  y\n  z\nb: 1\n', 'a: "x\n\n  y"\nb: 1\n', "a: [x\n , 'y\n  z']\nb: 1\n", 'a: |\n x\n\nb: 1\n', 'a: x\r\n  y\r\nb: 1']) {
  const lc = new LineCounter();
  parseAllDocuments(src, { lineCounter: lc });
  const expected = [0]; for (let i = 0; i < src.length; i++) if (src[i] === '\n') expected.push(i + 1);
  console.log(JSON.stringify(lc.lineStarts), JSON.stringify(expected));
}
