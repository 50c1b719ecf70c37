// A table's column headers.
export function HeaderRow({ labels }: { labels: string[] }) {
  return (
    <thead>
      <tr>
        {labels.map((label) => (
          <th scope="col">{label}</th>
        ))}
      </tr>
    </thead>
  );
}
